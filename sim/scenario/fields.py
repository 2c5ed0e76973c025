"""The one walker of dotted keys (``workers.na_workers.count``) through scenario data.

``--set`` overrides, sweep parameters, the UI's controls and validation messages all name a
field by a dotted key in which list items are addressed by their ``id`` (or index). This
module is the only place that follows such a key, through the plain data of a document and,
when asked, through the schema beside it, so that every caller agrees on what a key means.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from sim.scenario.schema import Scenario, unwrap_annotation

Loc = tuple[str | int, ...]
"""A location in plain data: mapping keys and list indices, as pydantic reports them."""


class FieldPathError(ValueError):
    """A dotted key that leads nowhere; ``loc`` is as far as it got (for naming the field)."""

    def __init__(self, message: str, loc: Loc) -> None:
        super().__init__(message)
        self.loc = loc


@dataclass(frozen=True)
class FieldAt:
    """Where a dotted key leads: its location in the data and the schema's type there."""

    loc: Loc
    annotation: Any  # the plain type the schema declares there (None without a schema)
    value: Any  # what the data holds there (None when absent)


def item_index(items: list, part: str | int) -> int | None:
    """The index of the list item named ``part``: by its ``id`` first, then as an index."""
    if isinstance(part, int):
        return part if 0 <= part < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("id")) == part:
            return i
    if part.isdigit() and int(part) < len(items):
        return int(part)
    return None


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def walk(
    data: Any,
    key: str | Sequence[str | int],
    *,
    schema: type[BaseModel] | None = None,
    create: bool = False,
) -> FieldAt:
    """Follow ``key`` through ``data`` (and ``schema``, if given) to the field it names.

    Args:
        data: the plain scenario data (mappings, lists and scalars).
        key: a dotted key, or its parts (ints are list indices, as in pydantic locations).
        schema: check every step against this model too: unknown fields, dictionary keys
            outside a fixed vocabulary and absent sections are then errors.
        create: make missing mappings on the way (``--set`` of a field the file leaves out).

    Returns:
        The location reached, the schema's type there and the value the data holds.

    Raises:
        FieldPathError: the key names nothing, with a message saying what was expected.
    """
    parts = key.split(".") if isinstance(key, str) else list(key)
    annotation: Any = schema
    node: Any = data
    loc: Loc = ()
    walked: list[str] = []
    for part in parts:
        ann = unwrap_annotation(annotation) if schema is not None else None
        origin = typing.get_origin(ann)
        here = ".".join(walked) or "the scenario"
        if _is_model(ann):
            fields = ann.model_fields
            if str(part) not in fields:
                raise FieldPathError(
                    f"'{part}' is not a field of {here}; expected one of: {', '.join(fields)}",
                    loc + (part,),
                )
            annotation = fields[str(part)].annotation
            node = _child(node, str(part), create)
            loc += (str(part),)
        elif origin is list or (ann is None and isinstance(node, list)):
            items = node if isinstance(node, list) else []
            index = item_index(items, part)
            if index is None:
                ids = [str(it.get("id")) for it in items if isinstance(it, dict)]
                raise FieldPathError(
                    f"{here} has no item '{part}'; expected one of: {', '.join(ids) or 'none'}",
                    loc + (part,),
                )
            annotation = typing.get_args(ann)[0] if origin is list else None
            node = items[index]
            loc += (index,)
        elif origin is dict or (ann is None and isinstance(node, dict)):
            if origin is dict:
                key_type, annotation = typing.get_args(ann)
                allowed = literal_values(key_type)
                if allowed and str(part) not in allowed:
                    raise FieldPathError(
                        f"'{part}' is not allowed in {here}; expected one of: {', '.join(allowed)}",
                        loc + (part,),
                    )
                present = isinstance(node, dict) and part in node
                if _is_model(unwrap_annotation(annotation)) and not present and not create:
                    names = ", ".join(node) if isinstance(node, dict) and node else "none"
                    raise FieldPathError(
                        f"{here} has no entry '{part}'; expected one of: {names}", loc + (part,)
                    )
            node = _child(node, str(part), create)
            loc += (str(part),)
        else:
            raise FieldPathError(f"{here} is a single value, with no field '{part}' inside", loc)
        walked.append(str(part))
    return FieldAt(loc=loc, annotation=unwrap_annotation(annotation), value=node)


def _child(node: Any, part: str, create: bool) -> Any:
    if not isinstance(node, dict):
        return None
    if create and part not in node:
        node[part] = {}
    return node.get(part)


def assign(data: dict[str, Any], key: str, value: Any) -> Loc:
    """Set the field ``key`` of ``data`` (in place) to ``value``; returns its location."""
    at = walk(data, key, create=True)
    walk(data, at.loc[:-1]).value[at.loc[-1]] = value
    return at.loc


def friendly_path(data: Any, loc: Loc) -> str:
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


def fields_at(data: Any, loc: Loc, schema: type[BaseModel] = Scenario) -> list[str]:
    """The field names the schema allows in the mapping at ``loc`` (none if it is no model)."""
    try:
        at = walk(data, loc, schema=schema)
    except FieldPathError:
        return []
    return sorted(at.annotation.model_fields) if _is_model(at.annotation) else []


FIELD_KINDS = {
    "int": "a whole number",
    "float": "a number",
    "money": "an amount of money",
    "bool": "true/false",
    "text": "text",
}


def field_kind(key: str, data: dict[str, Any], schema: type[BaseModel] = Scenario) -> str:
    """The kind of single value ``key`` names (one of :data:`FIELD_KINDS`).

    Raises:
        ValueError: the key names nothing, or a whole section rather than one value.
    """
    ann = walk(data, key, schema=schema).annotation
    for kind, plain in (("bool", bool), ("int", int), ("float", float), ("money", Decimal)):
        if ann is plain:
            return kind
    if ann is str or typing.get_origin(ann) is Literal:
        return "text"
    raise ValueError(
        f"{key} is a whole section, not a single value; expected a field inside "
        "it (or a parameter with levels: to set several fields together)"
    )


def literal_values(annotation: Any) -> list[str]:
    """The allowed values of a ``Literal[...]`` type, as text (empty for any other type)."""
    ann = unwrap_annotation(annotation)
    if typing.get_origin(ann) is Literal:
        return [str(v) for v in typing.get_args(ann)]
    return []
