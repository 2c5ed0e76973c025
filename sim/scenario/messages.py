"""The one translator from a pydantic validation error to our one-line message.

Scenario files and sweep files are both checked by pydantic models; whichever model
fails, the first error becomes a :class:`~sim.scenario.errors.ScenarioError` naming the
file and line the value came from, the field (list items by their ``id``), what was
expected and what was found.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pydantic

from sim.scenario.document import SourcedDoc
from sim.scenario.errors import ScenarioError
from sim.scenario.fields import fields_at, friendly_path
from sim.scenario.schema import Scenario

_BOUNDS = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}
_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "dict_type": "a mapping (key: value pairs)",
    "model_type": "a mapping of fields",
    "model_attributes_type": "a mapping of fields",
    "list_type": "a list",
}


def validation_error(
    exc: pydantic.ValidationError, doc: SourcedDoc, schema: type[pydantic.BaseModel] = Scenario
) -> ScenarioError:
    """The first error of ``exc`` as a located one-line ScenarioError.

    Args:
        exc: what ``schema.model_validate(doc.data)`` raised.
        doc: the document validated (it knows each value's file and line).
        schema: the model that was validated (for the list of allowed field names).
    """
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    is_key = bool(loc) and loc[-1] == "[key]"  # a dict key (not its value) is wrong
    if is_key:
        loc = loc[:-1]
    file, line = doc.locate(loc)
    field = friendly_path(doc.data, loc) or None
    if err["type"] == "extra_forbidden":
        msg = f"unknown field '{loc[-1]}'"
        allowed = fields_at(doc.data, loc[:-1], schema)
        if allowed:
            msg += f"; expected one of: {', '.join(allowed)}"
    else:
        msg = expected(err, with_input=not is_key)
        if is_key:
            msg = f"'{loc[-1]}' is not an allowed name here; {msg}"
    return ScenarioError(msg, file=file, line=line, field=field)


def expected(err: Any, with_input: bool = True) -> str:
    """``expected <what>, got <value>`` for one pydantic error (a dict from ``errors()``)."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "required field is missing; expected a value for it"
    got = f", got {shown(err.get('input'))}" if with_input else ""
    if kind in _BOUNDS and ctx:
        limit = next(iter(ctx.values()))
        return f"expected a number {_BOUNDS[kind]} {number(limit)}{got}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'one of the allowed values')}{got}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if pattern.startswith("^[a-z][a-z0-9_]"):
            what = "a name of lower-case letters, digits and '_' starting with a letter"
        elif pattern == "^[A-Z]{3}$":
            what = "a three-letter upper-case currency code such as USD"
        else:
            what = f"text matching {pattern}"
        return f"expected {what}{got}"
    if kind == "string_too_short":
        return f"expected non-empty text{got}"
    if kind == "string_too_long":
        return f"expected text of at most {ctx.get('max_length')} characters{got}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length', 1)} item(s){got}"
    if kind == "too_long":
        return f"expected at most {ctx.get('max_length')} items{got}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}{got}"
    message = str(err.get("msg", "invalid value")).rstrip(".")
    return f"expected a valid value: {message[:1].lower()}{message[1:]}{got}"


def number(value: Any) -> str:
    """A bound or value as a person writes it: ``1000000000``, ``0.5``, ``1e-06``."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def shown(value: Any) -> str:
    """A value found in a file, short enough for a one-line message."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
