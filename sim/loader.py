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

from sim.errors import ScenarioError

Path_ = tuple[str | int, ...]


@dataclass
class SourcedDoc:
    """A plain YAML document plus ``origin``: path tuple -> (file, line)."""

    data: dict[str, Any]
    origin: dict[Path_, tuple[str, int]] = field(default_factory=dict)
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


def _construct(node: yaml.Node, file: str, path: Path_, origin: dict) -> Any:
    origin[path] = (file, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ScenarioError("mapping keys must be plain names", file=file,
                                    line=key_node.start_mark.line + 1, field=_dotted(path))
            key = yaml.SafeLoader.construct_scalar(yaml.SafeLoader(""), key_node)
            if key == "<<":
                raise ScenarioError("YAML merge keys ('<<') are not supported; use extends:",
                                    file=file, line=key_node.start_mark.line + 1)
            if key in out:
                raise ScenarioError(f"duplicate key '{key}'", file=file,
                                    line=key_node.start_mark.line + 1, field=_dotted(path))
            out[key] = _construct(value_node, file, path + (key,), origin)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, file, path + (i,), origin) for i, item in enumerate(node.value)]
    loader = yaml.SafeLoader("")
    return loader.construct_object(node)


def parse_yaml(text: str, file: str) -> SourcedDoc:
    """Parse one YAML text into a SourcedDoc; malformed YAML becomes a ScenarioError."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ScenarioError(f"malformed YAML: {exc.problem or exc}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"malformed YAML: {exc}", file=file) from None
    if node is None:
        raise ScenarioError("the file is empty; expected a mapping of scenario fields", file=file)
    if not isinstance(node, yaml.MappingNode):
        raise ScenarioError("expected a mapping of scenario fields at the top level", file=file,
                            line=node.start_mark.line + 1)
    origin: dict[Path_, tuple[str, int]] = {}
    try:
        data = _construct(node, file, (), origin)
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ScenarioError(f"unsupported YAML value: {exc.problem}", file=file, line=line) from None
    return SourcedDoc(data=data, origin=origin, files=[file])


def _dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path)


def _merge(base: Any, over: Any, base_path: Path_, over_path: Path_, base_origin: dict,
           over_origin: dict, out_origin: dict, out_path: Path_) -> Any:
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
                result[key] = _merge(base[key], value, base_path + (key,), over_path + (key,),
                                     base_origin, over_origin, out_origin, out_path + (key,))
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
                result_list.append(_merge(item, oitem, base_path + (i,), over_path + (oi,),
                                          base_origin, over_origin, out_origin, out_path + (j,)))
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


def load_document(path: str | Path, _chain: tuple[Path, ...] = ()) -> SourcedDoc:
    """Load a scenario file, following ``extends:`` (relative to the file) recursively."""
    path = Path(path)
    shown = str(path)
    resolved = path.resolve()
    if resolved in _chain:
        cycle = " -> ".join(str(p.name) for p in _chain + (resolved,))
        raise ScenarioError(f"extends: cycle detected ({cycle})", file=shown,
                            line=None, field="extends")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("file not found", file=shown) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read file: {exc}", file=shown) from None
    doc = parse_yaml(text, shown)
    parent_ref = doc.data.pop("extends", None)
    if parent_ref is None:
        return doc
    file, line = doc.origin.get(("extends",), (shown, None))
    if not isinstance(parent_ref, str) or not parent_ref.endswith((".yaml", ".yml")):
        raise ScenarioError("expected the name of a .yaml file next to this one",
                            file=file, line=line, field="extends")
    parent_path = (path.parent / parent_ref)
    if parent_path.resolve().parent != path.resolve().parent and ".." in Path(parent_ref).parts:
        raise ScenarioError("extends: may only name scenario files in the same folder or below",
                            file=file, line=line, field="extends")
    if not parent_path.exists():
        raise ScenarioError(f"extends: '{parent_ref}' does not exist", file=file, line=line,
                            field="extends")
    base = load_document(parent_path, _chain + (resolved,))
    origin: dict[Path_, tuple[str, int]] = {}
    merged = _merge(base.data, doc.data, (), (), base.origin, doc.origin, origin, ())
    return SourcedDoc(data=merged, origin=origin, files=[shown] + base.files)


def apply_overrides(doc: SourcedDoc, assignments: list[str]) -> SourcedDoc:
    """Apply ``dotted.key=value`` overrides; list items are addressed by ``id`` or index."""
    data = copy.deepcopy(doc.data)
    origin = dict(doc.origin)
    for assignment in assignments:
        where = f"--set {assignment}"
        key, sep, raw = assignment.partition("=")
        if not sep or not key.strip():
            raise ScenarioError("expected dotted.key=value", file=where)
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            raise ScenarioError(f"cannot parse value {raw!r}", file=where) from None
        parts = key.strip().split(".")
        node: Any = data
        path: list[str | int] = []
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                index = _list_index(node, part)
                if index is None:
                    ids = [str(item.get("id")) for item in node if isinstance(item, dict)]
                    raise ScenarioError(f"no item '{part}' here; expected one of {ids}",
                                        file=where, field=_dotted(path))
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
                raise ScenarioError("cannot set a field inside a plain value", file=where,
                                    field=_dotted(path))
        for k in [k for k in origin if k[: len(path)] == tuple(path)]:
            del origin[k]
        origin[tuple(path)] = (where, 0)
    return SourcedDoc(data=data, origin=origin, files=doc.files)


def _list_index(items: list, part: str) -> int | None:
    for i, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("id")) == part:
            return i
    if part.isdigit() and int(part) < len(items):
        return int(part)
    return None
