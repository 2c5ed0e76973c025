"""Safe YAML loading that remembers where every value came from.

Scenario files are parsed with PyYAML's SafeLoader only (no tags, no Python objects),
composed into nodes so each key keeps its file and line. ``extends:`` chains are merged
here, and ``--set`` overrides are applied here, so that every later validation error can
point at the exact file and line that produced the offending value.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.scenario.errors import ScenarioError

Path_ = tuple[str | int, ...]


@dataclass
class SourcedDoc:
    """A plain YAML document plus ``origin``: path tuple -> (file, line)."""

    data: dict[str, Any]
    origin: dict[Path_, tuple[str, int | None]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def locate(self, path: Path_) -> tuple[str, int | None]:
        """The file and line of the deepest known prefix of ``path``."""
        path = tuple(path)
        while True:
            if path in self.origin:
                return self.origin[path]
            if not path:
                return (self.files[0] if self.files else "<scenario>", None)
            path = path[:-1]


_STANDARD_TAGS = frozenset(
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)
MAX_VALUES = 200_000
"""Upper bound on the values one file may expand to (YAML aliases can multiply them)."""


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _tag_name(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


def _item_name(node: yaml.Node, index: int) -> str | int:
    """How a list item is shown in field paths: its ``id`` if it has a plain one."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, yaml.ScalarNode)
                and key_node.value == "id"
                and isinstance(value_node, yaml.ScalarNode)
                and value_node.value
            ):
                return value_node.value
    return index


class _Builder:
    """Turns composed YAML nodes into plain Python values, recording each value's line.

    Only the standard YAML types are accepted: any other tag (``!!python/...``,
    ``!!binary``, local ``!tags``) is an error, whatever kind of node carries it.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.origin: dict[Path_, tuple[str, int | None]] = {}
        self.scalars = yaml.SafeLoader("")
        self.count = 0
        self.active: set[int] = set()

    def fail(self, message: str, node: yaml.Node, shown: tuple) -> ScenarioError:
        return ScenarioError(
            message, file=self.file, line=_line(node), field=_dotted(shown) or None
        )

    def build(self, node: yaml.Node, path: Path_, shown: tuple, line: int) -> Any:
        self.origin[path] = (self.file, line)
        self.count += 1
        if self.count > MAX_VALUES:
            raise self.fail(
                f"the file expands to more than {MAX_VALUES:,} values (through YAML aliases?); "
                "expected a smaller scenario",
                node,
                shown,
            )
        if node.tag not in _STANDARD_TAGS:
            raise self.fail(
                f"YAML tag '{_tag_name(node.tag)}' is not allowed; expected plain YAML values "
                "(text, numbers, true/false, lists and mappings)",
                node,
                shown,
            )
        if isinstance(node, yaml.ScalarNode):
            try:
                return self.scalars.construct_object(node)
            except yaml.YAMLError as exc:
                problem = getattr(exc, "problem", None) or str(exc)
                raise self.fail(f"unreadable YAML value: {problem}", node, shown) from None
        if id(node) in self.active:
            raise self.fail(
                "a YAML alias refers to a value that contains it; expected a finite structure",
                node,
                shown,
            )
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [
                    self.build(item, path + (i,), shown + (_item_name(item, i),), _line(item))
                    for i, item in enumerate(node.value)
                ]
            return self._mapping(node, path, shown)
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: Path_, shown: tuple) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail("expected a plain name as a mapping key", key_node, shown)
            key = key_node.value
            if key == "<<":
                raise self.fail(
                    "YAML merge keys ('<<') are not supported; expected extends: to reuse a file",
                    key_node,
                    shown,
                )
            if key_node.tag not in _STANDARD_TAGS:
                raise self.fail(
                    f"YAML tag '{_tag_name(key_node.tag)}' is not allowed; expected a plain name",
                    key_node,
                    shown,
                )
            if key in out:
                raise self.fail(
                    f"duplicate key '{key}'; expected each key once per mapping",
                    key_node,
                    shown + (key,),
                )
            # A key's line is where the key is written, even when its value starts below.
            out[key] = self.build(value_node, path + (key,), shown + (key,), _line(key_node))
        return out


def parse_yaml(text: str, file: str) -> SourcedDoc:
    """Parse one YAML text into a SourcedDoc; malformed YAML becomes a ScenarioError."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "unreadable YAML"
        raise ScenarioError(
            f"malformed YAML: {problem}; expected valid YAML (check indentation, colons, "
            "brackets and quotes)",
            file=file,
            line=line,
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"malformed YAML: {exc}", file=file) from None
    if node is None:
        raise ScenarioError(
            "the file is empty; expected a mapping of scenario fields", file=file, line=1
        )
    if not isinstance(node, yaml.MappingNode):
        raise ScenarioError(
            "expected a mapping of scenario fields (key: value lines) at the top level",
            file=file,
            line=_line(node),
        )
    builder = _Builder(file)
    data = builder.build(node, (), (), _line(node))
    return SourcedDoc(data=data, origin=builder.origin, files=[file])


def _dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path)


def _merge(
    base: Any,
    over: Any,
    base_path: Path_,
    over_path: Path_,
    base_origin: dict,
    over_origin: dict,
    out_origin: dict,
    out_path: Path_,
) -> Any:
    """Deep-merge ``over`` onto ``base``; lists of mappings with ``id`` merge by id."""
    if isinstance(base, dict) and isinstance(over, dict):
        result: dict[str, Any] = {}
        _copy_origin(base_origin, base_path, out_origin, out_path)
        for key, value in base.items():
            if key not in over:
                result[key] = copy.deepcopy(value)
                _copy_origin(base_origin, base_path + (key,), out_origin, out_path + (key,))
        for key, value in over.items():
            if key in base:
                result[key] = _merge(
                    base[key],
                    value,
                    base_path + (key,),
                    over_path + (key,),
                    base_origin,
                    over_origin,
                    out_origin,
                    out_path + (key,),
                )
            else:
                result[key] = copy.deepcopy(value)
                _copy_origin(over_origin, over_path + (key,), out_origin, out_path + (key,))
        if over_path in over_origin:
            out_origin[out_path] = over_origin[over_path]
        return result
    if _is_id_list(base) and _is_id_list(over):
        result_list: list[Any] = []
        over_by_id = {item["id"]: (i, item) for i, item in enumerate(over)}
        used: set[Any] = set()
        for i, item in enumerate(base):
            j = len(result_list)
            if item["id"] in over_by_id:
                oi, oitem = over_by_id[item["id"]]
                used.add(item["id"])
                result_list.append(
                    _merge(
                        item,
                        oitem,
                        base_path + (i,),
                        over_path + (oi,),
                        base_origin,
                        over_origin,
                        out_origin,
                        out_path + (j,),
                    )
                )
            else:
                result_list.append(copy.deepcopy(item))
                _copy_origin(base_origin, base_path + (i,), out_origin, out_path + (j,))
        for oi, oitem in enumerate(over):
            if oitem["id"] not in used:
                j = len(result_list)
                result_list.append(copy.deepcopy(oitem))
                _copy_origin(over_origin, over_path + (oi,), out_origin, out_path + (j,))
        if over_path in over_origin:
            out_origin[out_path] = over_origin[over_path]
        return result_list
    _copy_origin(over_origin, over_path, out_origin, out_path)
    return copy.deepcopy(over)


def _is_id_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and "id" in v for v in value)


def _copy_origin(src: dict, src_path: Path_, dst: dict, dst_path: Path_) -> None:
    n = len(src_path)
    for key, where in src.items():
        if key[:n] == src_path:
            dst[dst_path + key[n:]] = where


_NO_PARENT = object()


def friendly_path(data: Any, loc: Path_) -> str:
    """``campaigns.tweets.urgency`` rather than ``campaigns.0.urgency`` when items have ids."""
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            item = node[part]
            named = isinstance(item, dict) and isinstance(item.get("id"), str | int)
            parts.append(str(item["id"]) if named else str(part))
            node = item
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


def read_yaml_file(path: Path, kind: str) -> SourcedDoc:
    """Read and parse one YAML file; unreadable files become one-line errors.

    ``kind`` names what the file should be ("scenario", "calibration") in the messages.
    """
    shown = str(path)
    expected = f"expected a {kind} .yaml file"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"file not found; {expected}", file=shown) from None
    except IsADirectoryError:
        raise ScenarioError(f"this is a folder; {expected}", file=shown) from None
    except UnicodeDecodeError:
        raise ScenarioError("cannot read file: expected UTF-8 text", file=shown) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read file: {exc.strerror or exc}", file=shown) from None
    return parse_yaml(text, shown)


def load_document(path: str | Path, _chain: tuple[Path, ...] = ()) -> SourcedDoc:
    """Load a scenario file, following ``extends:`` recursively.

    ``extends:`` may only name a ``.yaml``/``.yml`` file in the same folder as the file
    that contains it: no folders, no absolute paths, no ``..``, no links leading elsewhere.
    """
    path = Path(path)
    shown = str(path)
    doc = read_yaml_file(path, "scenario")
    parent_ref = doc.data.pop("extends", _NO_PARENT)
    if parent_ref is _NO_PARENT:
        return doc
    file, line = doc.origin.get(("extends",), (shown, None))

    def fail(message: str) -> ScenarioError:
        return ScenarioError(message, file=file, line=line, field="extends")

    if not isinstance(parent_ref, str) or not parent_ref.strip():
        raise fail(f"expected the name of a .yaml file in the same folder, got {parent_ref!r}")
    ref = parent_ref.strip()
    if (
        "/" in ref
        or "\\" in ref
        or ref.startswith("~")
        or Path(ref).is_absolute()
        or Path(ref).drive
        or ref in (".", "..")
    ):
        raise fail(
            f"'{ref}' is not a plain file name; expected a .yaml file in the same folder "
            "(no folders, absolute paths or '..')"
        )
    if not ref.lower().endswith((".yaml", ".yml")):
        raise fail(f"'{ref}' is not a .yaml file; expected a .yaml or .yml file name")
    folder = path.parent.resolve()
    parent_path = path.parent / ref
    here = path.resolve()
    target = parent_path.resolve()
    if target in _chain + (here,):
        names = [p.name for p in _chain[_chain.index(target) :]] if target in _chain else []
        cycle = " -> ".join(names + [here.name, target.name])
        raise fail(f"forms a cycle ({cycle}); expected a chain of files that ends")
    if not parent_path.is_file():
        raise fail(f"'{ref}' not found; expected a .yaml file in the same folder as {path.name}")
    if target.parent != folder:
        raise fail(f"'{ref}' links to a file outside this folder; expected a file in the folder")
    base = load_document(parent_path, _chain + (here,))
    origin: dict[Path_, tuple[str, int | None]] = {}
    merged = _merge(base.data, doc.data, (), (), base.origin, doc.origin, origin, ())
    return SourcedDoc(data=merged, origin=origin, files=[shown] + base.files)


def apply_overrides(doc: SourcedDoc, assignments: list[str]) -> SourcedDoc:
    """Apply ``dotted.key=value`` overrides; list items are addressed by ``id`` or index.

    Errors name the assignment (``--set key=value``) as their source; the values are
    validated afterwards exactly like values written in the file.
    """
    data = copy.deepcopy(doc.data)
    origin = dict(doc.origin)
    for assignment in assignments:
        where = f"--set {assignment}"
        key, sep, raw = assignment.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError("expected dotted.key=value", file=where)
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            raise ScenarioError(
                f"cannot read value {raw!r}; expected a number, text, true/false or a YAML "
                "list or mapping",
                file=where,
                field=key,
            ) from None
        parts = key.split(".")
        node: Any = data
        path: list[str | int] = []
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                index = _list_index(node, part)
                if index is None:
                    ids = [str(item.get("id")) for item in node if isinstance(item, dict)]
                    raise ScenarioError(
                        f"no item '{part}' here; expected one of: {', '.join(ids)}",
                        file=where,
                        field=friendly_path(data, tuple(path) + (part,)),
                    )
                path.append(index)
                if last:
                    node[index] = value
                else:
                    node = node[index]
            elif isinstance(node, dict):
                path.append(part)
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
            else:
                raise ScenarioError(
                    "cannot set a field inside a plain value; expected a mapping here",
                    file=where,
                    field=friendly_path(data, tuple(path)),
                )
        for k in [k for k in origin if k[: len(path)] == tuple(path)]:
            del origin[k]
        origin[tuple(path)] = (where, None)
    return SourcedDoc(data=data, origin=origin, files=doc.files)


def _list_index(items: list, part: str) -> int | None:
    for i, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("id")) == part:
            return i
    if part.isdigit() and int(part) < len(items):
        return int(part)
    return None
