"""Safe YAML loading that remembers where every value came from.

Scenario and sweep files are read with a byte limit, parsed by libyaml into events, and
composed into nodes under limits on the number of values, the nesting depth and the length
of each text, so a hostile file is refused before it can take time or memory. Only plain
YAML values are built (no tags, no Python objects), and each key keeps its file and line.
``extends:`` chains are merged here, and ``--set`` overrides are applied here, so that
every later validation error can point at the exact file and line that produced the
offending value.
"""

from __future__ import annotations

import copy
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
import yaml.composer

from sim.scenario.errors import ScenarioError
from sim.scenario.fields import FieldPathError, assign, friendly_path

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
MAX_VALUES = 400_000
"""Upper bound on the values one file may expand to (YAML aliases can multiply them).

Sized for a classroom session's ``session.yaml``: about 30,000 recorded events (13 values
each), a 50-minute lesson with 60 students; such a file loads in about 10 s and 200 MiB."""
MAX_FILE_BYTES = 5_000_000
"""Largest scenario or sweep file (or pasted text) read; checked before parsing."""
MAX_DEPTH = 20
"""Deepest nesting of lists and mappings (the scenario format needs about 6)."""
MAX_TEXT_CHARS = 10_000
"""Longest single text value or key (the schema sets tighter limits on most fields)."""


class _BoundedComposer(yaml.composer.Composer):
    """PyYAML's composer with limits checked while composing, before anything is built.

    The node count, nesting depth and text length are checked as each event arrives, so
    a hostile file is refused after reading as much of it as it takes to see the problem.
    """

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.depth = 0
        self.nodes = 0

    def refuse(self, message: str, event: yaml.Event) -> ScenarioError:
        return ScenarioError(message, file=self.file, line=event.start_mark.line + 1)

    def compose_node(self, parent: Any, index: Any) -> yaml.Node:
        """Compose the next node, refusing it first if it breaks a limit."""
        event = self.peek_event()
        self.nodes += 1
        if self.nodes > MAX_VALUES:
            raise self.refuse(
                f"the file holds more than {MAX_VALUES:,} values; expected a smaller file", event
            )
        if isinstance(event, yaml.ScalarEvent) and len(event.value) > MAX_TEXT_CHARS:
            raise self.refuse(
                f"a text of {len(event.value):,} characters; expected at most "
                f"{MAX_TEXT_CHARS:,} characters in one value",
                event,
            )
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise self.refuse(
                    f"lists and mappings nested more than {MAX_DEPTH} deep; expected a "
                    "flatter structure",
                    event,
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser as _EventSource  # libyaml: fast, iterative parsing
else:  # pragma: no cover - PyYAML built without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _EventSource(Reader, Scanner, Parser):
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


class _Loader(_BoundedComposer, _EventSource, yaml.resolver.Resolver):
    """YAML events from libyaml, composed into nodes under our limits (no objects built)."""

    def __init__(self, text: str, file: str) -> None:
        _EventSource.__init__(self, text)
        _BoundedComposer.__init__(self, file)
        yaml.resolver.Resolver.__init__(self)


# YAML 1.2 reads 1e-06 and 1e3 as numbers; PyYAML (YAML 1.1) reads them as text, which
# strict types would then refuse. Python prints small floats that way, so accept them.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def _compose(text: str, file: str) -> yaml.Node | None:
    """Compose one YAML document with the limits of :class:`_BoundedComposer`."""
    loader = _Loader(text, file)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def read_text(path: str | Path, kind: str = "scenario") -> str:
    """A file's text, refused (one-line error) before reading if it cannot be a ``kind`` file.

    Only regular files are read (no devices, pipes or folders), at most
    :data:`MAX_FILE_BYTES` of them, as UTF-8.
    """
    shown = str(path)
    try:
        # non-blocking, so that opening a pipe cannot wait for a writer; fstat then refuses it
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ScenarioError(f"not a regular file; expected a {kind} .yaml file", file=shown)
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(f"file not found; expected a {kind} .yaml file", file=shown) from None
    except IsADirectoryError:
        raise ScenarioError(f"this is a folder; expected a {kind} .yaml file", file=shown) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read file: {exc.strerror or exc}", file=shown) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(_too_large(f"{kind} file"), file=shown)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("cannot read file: expected UTF-8 text", file=shown) from None


def _too_large(what: str) -> str:
    return f"larger than {MAX_FILE_BYTES:,} bytes; expected a {what} of at most that size"


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
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise ScenarioError(_too_large("scenario text"), file=file)
    try:
        node = _compose(text, file)
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


def _parse_value(text: str, where: str) -> Any:
    """One ``--set`` value, read under the same rules and limits as a file."""
    node = _compose(text, where)
    return None if node is None else _Builder(where).build(node, (), (), _line(node))


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


def read_yaml_file(path: Path, kind: str) -> SourcedDoc:
    """Read and parse one YAML file of the given ``kind`` ("scenario", "calibration").

    Reading is bounded as in :func:`read_text`; unreadable files become one-line errors.
    """
    return parse_yaml(read_text(path, kind), str(path))


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
            value = _parse_value(raw, where) if raw.strip() else ""
        except yaml.YAMLError:
            raise ScenarioError(
                f"cannot read value {raw!r}; expected a number, text, true/false or a YAML "
                "list or mapping",
                file=where,
                field=key,
            ) from None
        try:
            path = assign(data, key, value)
        except FieldPathError as exc:
            raise ScenarioError(
                str(exc), file=where, field=friendly_path(data, exc.loc) or None
            ) from None
        for k in [k for k in origin if k[: len(path)] == path]:
            del origin[k]
        origin[path] = (where, None)
    return SourcedDoc(data=data, origin=origin, files=doc.files)
