"""Write a calibration's best-fit values into a scenario file, citing the calibration.

``python -m sim.calibrate.apply results/calibrations/<name>`` edits the calibrated
scenario's YAML in place: each free parameter's keys get the best-fit value (three
significant figures) and the comment ``# calibrated: results/calibrations/<name>``.
Only those values and comments change; the rest of the file, its comments and layout
stay as they are. A key the file does not write yet is added to its mapping. The edited
file is validated before it replaces the original.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from sim.calibrate.spec import Calibration, FreeParameter, load_calibration
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario, resolved_dict
from sim.sweeps.spec import format_value

MARK = "# calibrated:"


def rounded(p: FreeParameter, value: float, digits: int = 3) -> float | int:
    """The best-fit value to ``digits`` significant figures, as the field takes it."""
    return p.to_value(float(f"{value:.{digits}g}"))


def _find(node: yaml.Node, parts: list[str]) -> tuple[yaml.Node, list[str]]:
    """The deepest node along ``parts`` and the parts still missing below it."""
    for i, part in enumerate(parts):
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode):
            match = next(
                (
                    item
                    for item in node.value
                    if isinstance(item, yaml.MappingNode)
                    and any(k.value == "id" and v.value == part for k, v in item.value)
                ),
                None,
            )
        else:
            match = None
        if match is None:
            return node, parts[i:]
        node = match
    return node, []


def set_value(
    text: str, key: str, value_text: str, reference: str, file: str, resolved: dict | None = None
) -> str:
    """``text`` with ``key`` (dotted, list items by id) set to ``value_text`` and cited.

    A missing section (``activity`` for ``activity.cv``) is written whole, from
    ``resolved`` (the scenario with its defaults), so that its required fields come along.
    """
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    parts = key.split(".")
    node, missing = _find(root, parts)
    if len(missing) > 1 and resolved is not None:
        section = _lookup(resolved, ".".join(parts[: len(parts) - len(missing) + 1]))
        section = _with_value(section, missing[1:], yaml.safe_load(value_text))
        dumped = yaml.safe_dump(
            section, default_flow_style=True, sort_keys=False, width=1_000_000
        ).strip()
        missing, value_text = missing[:1], dumped
    if not missing:
        if not isinstance(node, yaml.ScalarNode):
            raise ScenarioError(f"{key} is not a single value in this file", file=file)
        start, end = node.start_mark.index, node.end_mark.index
        text = text[:start] + value_text + text[end:]
        line = node.start_mark.line
    elif isinstance(node, yaml.SequenceNode):
        raise ScenarioError(
            f"{key}: the item '{missing[0]}' is not written in this file; add it first",
            file=file,
        )
    elif not isinstance(node, yaml.MappingNode):
        raise ScenarioError(f"{key}: a plain value sits where a mapping is expected", file=file)
    elif node.flow_style:  # {a: 1, b: 2}: add ", key: value" before the closing brace
        nested = value_text
        for part in reversed(missing[1:]):
            nested = f"{{{part}: {nested}}}"
        close = node.end_mark.index - 1
        text = text[:close] + f", {missing[0]}: {nested}" + text[close:]
        line = node.end_mark.line
    else:  # a block mapping: new lines after its last entry, at its indentation
        indent = node.value[0][0].start_mark.column
        end = node.value[-1][1].end_mark  # a nested block ends at column 0 of the next line
        after = end.line + (1 if end.column > 0 else 0)
        lines = text.splitlines(keepends=True)
        new = []
        for depth, part in enumerate(missing):
            pad = " " * (indent + 2 * depth)
            tail = f" {value_text}" if depth == len(missing) - 1 else ""
            new.append(f"{pad}{part}:{tail}\n")
        lines[after:after] = new
        text = "".join(lines)
        line = after + len(new) - 1
    return _cite(text, line, reference)


def _with_value(section: dict, parts: list[str], value: Any) -> dict:
    out = dict(section)
    out[parts[0]] = value if len(parts) == 1 else _with_value(out[parts[0]], parts[1:], value)
    return out


def _cite(text: str, line: int, reference: str) -> str:
    lines = text.splitlines(keepends=True)
    body = lines[line].rstrip("\n")
    if MARK in body:
        body = body[: body.index(MARK)].rstrip()
    lines[line] = f"{body}  {MARK} {reference}\n"
    return "".join(lines)


def _lookup(data: Any, key: str) -> Any:
    node = data
    for part in key.split("."):
        if isinstance(node, list):
            node = next(item for item in node if str(item.get("id")) == part)
        else:
            node = node[part]
    return node


def apply_calibration(folder: Path, scenario_file: Path | None = None) -> list[str]:
    """Write ``folder``'s best fit into its scenario (or ``scenario_file``); list changes."""
    folder = Path(folder)
    calibration = _calibration_of(folder)
    best = json.loads((folder / "best_fit.json").read_text(encoding="utf-8"))["values"]
    target = Path(scenario_file or calibration.scenario_path)
    reference = _reference(folder)
    text = target.read_text(encoding="utf-8")
    resolved = resolved_dict(load_scenario(target))
    changes = []
    for p in calibration.parameters:
        value = rounded(p, best[p.key])
        for key in p.keys:
            text = set_value(
                text, key, format_value(value, p.kind), reference, str(target), resolved
            )
            changes.append(f"{key} = {value}")
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        data = resolved_dict(load_scenario(tmp))  # the edited file must still be valid
        for p in calibration.parameters:
            for key in p.keys:
                if float(_lookup(data, key)) != float(rounded(p, best[p.key])):
                    raise ScenarioError(f"{key} did not take its calibrated value", file=tmp)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return changes


def _calibration_of(folder: Path) -> Calibration:
    """The calibration file a results folder came from, if it is unchanged since."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    source = Path(manifest["calibration_file"])
    if not source.is_file():
        raise ScenarioError(
            "not found; run from the folder the calibration ran in (see manifest.json)",
            file=str(source),
        )
    calibration = load_calibration(source)
    if calibration.text != (folder / "calibration.yaml").read_text(encoding="utf-8"):
        raise ScenarioError(
            f"has changed since {folder} was calibrated; rerun the calibration first",
            file=str(source),
        )
    return calibration


def _reference(folder: Path) -> str:
    try:
        return str(folder.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(folder)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m sim.calibrate.apply FOLDER [--scenario FILE]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a finished calibration's output folder")
    parser.add_argument("--scenario", type=Path, help="scenario file to edit (default: its own)")
    args = parser.parse_args(argv)
    try:
        for change in apply_calibration(args.folder, args.scenario):
            print(change)
    except (ScenarioError, FileNotFoundError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
