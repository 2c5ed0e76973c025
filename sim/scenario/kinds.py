"""The kinds of input file clickfarm reads, and how ``clickfarm validate`` tells them apart.

Each kind is a :class:`FileKind`: a name, the top-level keys that mark it, a validator that
checks a file with that kind's own rules and sums it up in one line, and its JSON Schema.
A file says its kind with a top-level ``kind:`` key, or is recognised by its keys; a file
that fits no kind is refused with one line saying what each kind found wrong with it.

Scenarios and sweeps are registered here. Another package adds a kind by calling
:func:`register` in a module named ``sim/<package>/kinds.py``, which is imported the first
time the kinds are listed (for example ``sim/calibrate/kinds.py`` for calibration files).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.scenario.document import SourcedDoc, parse_yaml, read_text
from sim.scenario.errors import ScenarioError


@dataclass(frozen=True)
class Checked:
    """A file that passed its kind's checks: the kind, a one-line summary, and any notes."""

    kind: str
    summary: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FileKind:
    """One kind of input file.

    Attributes:
        name: what ``kind:`` says, and what ``validate`` prints beside the file.
        marks: top-level keys that only this kind uses; a file with any of them is
            taken to be of this kind.
        check: validates the file at a path with this kind's rules (raising a located
            ScenarioError) and sums it up.
        schema: the kind's JSON Schema (for ``clickfarm schema --kind``).
    """

    name: str
    marks: frozenset[str]
    check: Callable[[Path], Checked]
    schema: Callable[[], dict[str, Any]]


_KINDS: dict[str, FileKind] = {}
_discovered = False


def register(kind: FileKind) -> None:
    """Make ``kind`` known to ``clickfarm validate`` and ``clickfarm schema``."""
    _KINDS[kind.name] = kind


def kinds() -> dict[str, FileKind]:
    """Every registered kind, the built-in ones first, by name."""
    global _discovered
    if not _discovered:
        _discovered = True
        import sim

        for module in pkgutil.iter_modules(sim.__path__):
            name = f"sim.{module.name}.kinds"
            if module.ispkg and module.name != "scenario" and importlib.util.find_spec(name):
                importlib.import_module(name)
    return dict(_KINDS)


def check_file(path: str | Path) -> Checked:
    """Recognise a file's kind and validate it by that kind's rules.

    Raises:
        ScenarioError: the file breaks its kind's rules, or fits no kind (the message
            then says what each kind found wrong).
    """
    path = Path(path)
    known = kinds()
    doc = parse_yaml(read_text(path, "clickfarm"), str(path))
    declared = doc.data.get("kind")
    if declared is not None:
        if declared not in known:
            file, line = doc.locate(("kind",))
            raise ScenarioError(
                f"unknown kind {declared!r}; expected one of: {', '.join(known)}",
                file=file,
                line=line,
                field="kind",
            )
        return known[declared].check(path)
    marked = [k for k in known.values() if k.marks & doc.data.keys()]
    if len(marked) == 1:
        return marked[0].check(path)
    return _by_elimination(path, doc, marked or list(known.values()))


def _by_elimination(path: Path, doc: SourcedDoc, candidates: list[FileKind]) -> Checked:
    """Try each candidate kind; exactly one passing decides, else say why each failed."""
    passed, reasons = [], []
    for kind in candidates:
        try:
            passed.append(kind.check(path))
        except ScenarioError as exc:
            where = f"line {exc.line}: " if exc.line and exc.file == str(path) else ""
            field_name = f"{exc.field}: " if exc.field else ""
            reasons.append(f"a {kind.name} ({where}{field_name}{exc.message})")
    if len(passed) == 1:
        return passed[0]
    if passed:
        names = " and ".join(p.kind for p in passed)
        raise ScenarioError(
            f"this file passes as {names}; expected one kind: add kind: to say which",
            file=str(path),
        )
    raise ScenarioError(
        "fits no kind of clickfarm file: it could be " + " or ".join(reasons), file=str(path)
    )


# ------------------------------------------------------------------------------ built in
def _check_scenario(path: Path) -> Checked:
    from sim.scenario.budget import estimate_memory, sizes
    from sim.scenario.load import load_scenario

    s = load_scenario(path)
    z = sizes(s)
    size = f"{s.days:g} days, {z.workers:,} workers, {z.accounts:,} accounts, "
    size += f"{z.placements:,} orders"
    if z.influencers:
        size += f", {z.influencers:,} influencers"
    if z.moderators:
        size += f", {z.moderators:,} moderators"
    memory = f"estimated peak memory of a run: {estimate_memory(s).text()}"
    return Checked(kind="scenario", summary=f"{s.title} ({size})", notes=[memory])


def _check_sweep(path: Path) -> Checked:
    from sim.sweeps.spec import load_sweep

    sweep = load_sweep(path)
    spec = sweep.spec
    names = ", ".join(p.name for p in sweep.parameters)
    runs = f"{spec.replicates} replicate{'s' if spec.replicates > 1 else ''}"
    summary = f"{sweep.name}: {spec.design.method} design over {names}, {runs}"
    return Checked(kind="sweep", summary=summary, notes=[f"base scenario: {sweep.scenario_path}"])


def _scenario_schema() -> dict[str, Any]:
    from sim.scenario.load import json_schema

    return json_schema()


def model_schema(model: Any, title: str) -> dict[str, Any]:
    """A pydantic model's JSON Schema, labelled as a kind of clickfarm file."""
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = title
    return schema


def _sweep_schema() -> dict[str, Any]:
    from sim.sweeps.spec import SweepSpec

    return model_schema(SweepSpec, "clickfarm sweep")


register(
    FileKind(
        name="scenario",
        marks=frozenset({"regions", "recruiters", "workers", "campaigns", "extends"}),
        check=_check_scenario,
        schema=_scenario_schema,
    )
)
register(
    FileKind(
        name="sweep",
        marks=frozenset({"parameters", "design", "replicates"}),
        check=_check_sweep,
        schema=_sweep_schema,
    )
)
