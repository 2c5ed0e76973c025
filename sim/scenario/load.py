"""Load, validate and locate scenarios: the one entry point for scenario files."""

from __future__ import annotations

import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic
import yaml

from sim.scenario.document import SourcedDoc, apply_overrides, friendly_path, load_document
from sim.scenario.errors import ScenarioError
from sim.scenario.schema import Scenario, unwrap_annotation


def scenarios_dir() -> Path:
    """Where the shipped scenarios live (the checkout's ``scenarios/`` or the wheel's copy)."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_scenarios", package.parent / "scenarios"):
        if candidate.is_dir():
            return candidate
    return package.parent / "scenarios"


def shipped_scenarios() -> dict[str, Path]:
    return {p.stem: p for p in sorted(scenarios_dir().glob("*.yaml"))}


def resolve_path(name_or_path: str | Path) -> Path:
    """A scenario file path; a bare shipped name such as ``fillon2017_points`` also works."""
    path = Path(name_or_path)
    if path.exists() or path.suffix in (".yaml", ".yml"):
        return path
    shipped = shipped_scenarios()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise ScenarioError(
        "no such file or shipped scenario; expected a file path or one of: "
        f"{', '.join(shipped) or 'none'}",
        file=str(name_or_path),
    )


def load_scenario(name_or_path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Load and fully validate a scenario file, applying ``dotted.key=value`` overrides."""
    doc = load_document(resolve_path(name_or_path))
    if overrides:
        doc = apply_overrides(doc, overrides)
    return validate_document(doc)


def scenario_from_dict(data: dict[str, Any], label: str = "<dict>") -> Scenario:
    """Validate an in-memory scenario mapping (same rules as a file)."""
    return validate_document(SourcedDoc(data=data, files=[label]))


def scenario_from_yaml_text(text: str, label: str = "<text>") -> Scenario:
    from sim.scenario.document import parse_yaml

    doc = parse_yaml(text, label)
    if "extends" in doc.data:
        raise ScenarioError(
            "extends: is only allowed in files on disk", file=label, field="extends"
        )
    return validate_document(doc)


def validate_document(doc: SourcedDoc) -> Scenario:
    try:
        scenario = Scenario.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        raise _first_error(exc, doc) from None
    check_references(scenario, doc)
    return scenario


def _first_error(exc: pydantic.ValidationError, doc: SourcedDoc) -> ScenarioError:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    is_key = bool(loc) and loc[-1] == "[key]"  # a dict key (not its value) is wrong
    if is_key:
        loc = loc[:-1]
    file, line = doc.locate(loc)
    field = friendly_path(doc.data, loc)
    if err["type"] == "extra_forbidden":
        msg = f"unknown field '{loc[-1]}'"
        allowed = _allowed_fields(loc[:-1])
        if allowed:
            msg += f"; expected one of: {', '.join(allowed)}"
    else:
        msg = _expected(err, with_input=not is_key)
        if is_key:
            msg = f"'{loc[-1]}' is not an allowed name here; {msg}"
    return ScenarioError(msg, file=file, line=line, field=field)


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
    "missing": "a value for this required field",
}


def _expected(err: dict[str, Any], with_input: bool = True) -> str:
    """``expected <what>, got <value>`` for one pydantic error."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "required field is missing; expected a value for it"
    got = f", got {_shown(err.get('input'))}" if with_input else ""
    if kind in _BOUNDS and ctx:
        limit = next(iter(ctx.values()))
        return f"expected a number {_BOUNDS[kind]} {_number(limit)}{got}"
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
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}{got}"
    message = str(err.get("msg", "invalid value")).rstrip(".")
    return f"expected a valid value: {message[:1].lower()}{message[1:]}{got}"


def _number(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _shown(value: Any) -> str:
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


def _allowed_fields(loc: tuple) -> list[str]:
    """The field names allowed in the mapping at ``loc`` (for 'unknown field' messages)."""
    annotation: Any = Scenario
    for part in loc:
        annotation = unwrap_annotation(annotation)
        origin = typing.get_origin(annotation)
        if origin in (list, tuple):
            annotation = typing.get_args(annotation)[0]
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        elif isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            info = annotation.model_fields.get(str(part))
            if info is None:
                return []
            annotation = info.annotation
        else:
            return []
    annotation = unwrap_annotation(annotation)
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return sorted(annotation.model_fields)
    return []


def check_references(s: Scenario, doc: SourcedDoc) -> None:
    """Cross-field rules pydantic cannot express: references, tree shape, exact money."""

    def fail(loc: tuple, message: str) -> None:
        file, line = doc.locate(loc)
        raise ScenarioError(message, file=file, line=line, field=friendly_path(doc.data, loc))

    def unique(items: list, section: str) -> dict[str, int]:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in seen:
                fail(
                    (section, i, "id"),
                    f"duplicate id '{item.id}' in {section}; expected each id once",
                )
            seen[item.id] = i
        return seen

    recruiters = unique(s.recruiters, "recruiters")
    unique(s.workers, "workers")
    unique(s.campaigns, "campaigns")
    if not s.recruiters:
        fail(("recruiters",), "expected at least one recruiter")
    regions = set(s.regions)
    children: dict[str, list[str]] = {r.id: [] for r in s.recruiters}
    for i, r in enumerate(s.recruiters):
        if r.parent is not None:
            if r.parent not in recruiters:
                fail(
                    ("recruiters", i, "parent"),
                    f"names recruiter '{r.parent}', which does not exist; "
                    f"expected one of: {', '.join(recruiters)}",
                )
            children[r.parent].append(r.id)
        if r.kind == "influencer_network" and r.influencers is None:
            fail(
                ("recruiters", i, "kind"),
                "an influencer_network needs an influencers: section; expected one here",
            )
        if r.kind != "influencer_network" and r.influencers is not None:
            fail(
                ("recruiters", i, "influencers"),
                "only recruiters of kind influencer_network have influencers; expected "
                "kind: influencer_network or no influencers: section",
            )
    for i, r in enumerate(s.recruiters):  # cycles in the parent chain
        seen, cur = set(), r.id
        while cur is not None:
            if cur in seen:
                fail(
                    ("recruiters", i, "parent"),
                    f"parent chain of '{r.id}' loops back on itself; expected a tree of recruiters",
                )
            seen.add(cur)
            cur = s.recruiters[recruiters[cur]].parent
    leaves = {rid for rid, kids in children.items() if not kids}
    staffed: set[str] = set()
    for i, g in enumerate(s.workers):
        if g.region not in regions:
            fail(
                ("workers", i, "region"),
                f"names region '{g.region}', which does not exist; "
                f"expected one of: {', '.join(sorted(regions))}",
            )
        if g.recruiter not in recruiters:
            fail(
                ("workers", i, "recruiter"),
                f"names recruiter '{g.recruiter}', which does "
                f"not exist; expected one of: {', '.join(recruiters)}",
            )
        if g.recruiter not in leaves:
            fail(
                ("workers", i, "recruiter"),
                f"recruiter '{g.recruiter}' hands its work down to "
                "sub-recruiters; workers must belong to a recruiter at the bottom of the tree",
            )
        staffed.add(g.recruiter)
        rec = s.recruiters[recruiters[g.recruiter]]
        if g.kind == "bot" and rec.kind != "bot_operator":
            fail(
                ("workers", i, "kind"),
                "bots must belong to a recruiter of kind "
                "bot_operator; expected kind: human or a bot_operator recruiter",
            )
    for i, c in enumerate(s.campaigns):
        if c.recruiter not in recruiters:
            fail(
                ("campaigns", i, "recruiter"),
                f"names recruiter '{c.recruiter}', which does "
                f"not exist; expected one of: {', '.join(recruiters)}",
            )
        if s.recruiters[recruiters[c.recruiter]].parent is not None:
            fail(
                ("campaigns", i, "recruiter"),
                "campaigns must place orders with a top-level "
                "recruiter; expected a recruiter without a parent",
            )
        if c.audience_region not in regions:
            fail(
                ("campaigns", i, "audience_region"),
                f"names region '{c.audience_region}', "
                f"which does not exist; expected one of: {', '.join(sorted(regions))}",
            )
        if not any(c.actions.values()):
            fail(("campaigns", i, "actions"), "expected at least one action with a target > 0")
        if not _subtree_leaves(c.recruiter, children) & staffed:
            fail(
                ("campaigns", i, "recruiter"),
                f"recruiter '{c.recruiter}' has no workers "
                "anywhere below it, so this campaign could never be served; expected a recruiter "
                "with workers",
            )
    _check_market(s, recruiters, leaves, staffed, children, regions, fail)
    _check_events(s, recruiters, fail)
    _check_money(s, doc, fail)


def _check_events(s, recruiters, fail) -> None:
    """Each event is within the run, names what exists and sets what its kind uses."""
    from sim.scenario.schema import EVENT_FIELDS

    seen: set[str] = set()
    optional = {"trust_below", "moderators", "bias", "recruiter", "factor"}
    for i, e in enumerate(s.events):
        loc = ("events", i)
        if e.id in seen:
            fail((*loc, "id"), f"duplicate id '{e.id}' in events; expected each id once")
        seen.add(e.id)
        uses = EVENT_FIELDS[e.kind]
        for name in sorted(optional - uses):
            if getattr(e, name) is not None:
                fail(
                    (*loc, name),
                    f"a {e.kind} event does not use {name}; expected only: "
                    f"{', '.join(sorted(uses))}",
                )
        if e.weights and "weights" not in uses:
            fail(
                (*loc, "weights"),
                f"a {e.kind} event does not use weights; expected only: {', '.join(sorted(uses))}",
            )
        if e.kind == "detector":
            if e.bias is None and not e.weights:
                fail(loc, "a detector event needs a new bias or weights; expected at least one")
            continue
        for name in sorted(uses):
            if getattr(e, name) is None:
                fail(loc, f"a {e.kind} event needs {name}; expected a value for it")
        if e.recruiter is not None and e.recruiter not in recruiters:
            fail(
                (*loc, "recruiter"),
                f"names recruiter '{e.recruiter}', which does not exist; "
                f"expected one of: {', '.join(recruiters)}",
            )
        cap = s.platform.moderation.max_moderators
        if e.kind == "moderation" and cap is not None and e.moderators > cap:
            fail(
                (*loc, "moderators"),
                f"expected at most platform.moderation.max_moderators ({cap}), got {e.moderators}",
            )
    mod = s.platform.moderation
    if mod.policy != "fixed" and mod.max_moderators is None:
        fail(
            ("platform", "moderation", "policy"),
            f"a {mod.policy} policy needs "
            "max_moderators; expected platform.moderation.max_moderators to be set",
        )
    if mod.max_moderators is not None and mod.moderators > mod.max_moderators:
        fail(
            ("platform", "moderation", "moderators"),
            f"expected at most max_moderators ({mod.max_moderators}), got {mod.moderators}",
        )


def _check_market(s, recruiters, leaves, staffed, children, regions, fail) -> None:
    """Competing recruiters, multi-homing workers and the paid alternative."""
    for i, c in enumerate(s.campaigns):
        for j, rid in enumerate(c.competitors):
            loc = ("campaigns", i, "competitors", j)
            if rid not in recruiters:
                fail(
                    loc,
                    f"names recruiter '{rid}', which does not exist; expected one of: "
                    f"{', '.join(recruiters)}",
                )
            if rid == c.recruiter or c.competitors.count(rid) > 1:
                fail(
                    loc,
                    f"recruiter '{rid}' is listed twice; expected each competitor once, "
                    "other than the campaign's own recruiter",
                )
            if s.recruiters[recruiters[rid]].parent is not None:
                fail(
                    loc,
                    "competitors must be top-level recruiters; expected a recruiter "
                    "without a parent",
                )
            if not _subtree_leaves(rid, children) & staffed:
                fail(
                    loc,
                    f"recruiter '{rid}' has no workers anywhere below it; expected a "
                    "recruiter with workers",
                )
    for i, g in enumerate(s.workers):
        for j, rid in enumerate(g.also_works_for):
            loc = ("workers", i, "also_works_for", j)
            if rid not in recruiters or rid not in leaves:
                fail(
                    loc,
                    f"names '{rid}'; expected a bottom-level recruiter (one of: "
                    f"{', '.join(sorted(leaves))})",
                )
    alt = s.paid_alternative
    if alt is not None:
        if alt.recruiter.id in recruiters:
            fail(
                ("paid_alternative", "recruiter", "id"),
                f"'{alt.recruiter.id}' is already a "
                "recruiter of the scenario; expected a new id for the paid market",
            )
        if alt.recruiter.parent is not None or alt.recruiter.influencers is not None:
            fail(
                ("paid_alternative", "recruiter"),
                "the paid alternative is one recruiter "
                "with its own workers; expected no parent and no influencers",
            )
        if alt.workers.recruiter != alt.recruiter.id:
            fail(
                ("paid_alternative", "workers", "recruiter"),
                f"expected '{alt.recruiter.id}', the paid alternative's recruiter",
            )
        if alt.workers.region not in regions:
            fail(
                ("paid_alternative", "workers", "region"),
                f"names region "
                f"'{alt.workers.region}', which does not exist; expected one of: "
                f"{', '.join(sorted(regions))}",
            )
        if alt.workers.id in {g.id for g in s.workers}:
            fail(
                ("paid_alternative", "workers", "id"),
                f"'{alt.workers.id}' is already a worker group; expected a new id",
            )


def _subtree_leaves(root: str, children: dict[str, list[str]]) -> set[str]:
    out, stack = set(), [root]
    while stack:
        cur = stack.pop()
        kids = children[cur]
        if not kids:
            out.add(cur)
        stack.extend(kids)
    return out


def _check_money(s: Scenario, doc: SourcedDoc, fail) -> None:
    scale = s.currency.minor_units
    data = s.model_dump()

    def walk(value: Any, loc: tuple) -> None:
        if isinstance(value, Decimal):
            units = value * scale
            if units != units.to_integral_value():
                step = format(Decimal(1) / scale, "f")
                fail(
                    loc,
                    f"{format(value, 'f')} {s.currency.code} is not a whole number of ledger "
                    f"units (currency.minor_units = {scale}); expected a multiple of {step} "
                    f"{s.currency.code}, or raise minor_units",
                )
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, loc + (k,))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, loc + (i,))

    walk(data, ())


def to_minor(amount: Decimal, scale: int) -> int:
    """Exact conversion of a validated money amount to integer ledger units."""
    return int(amount * scale)


def scenario_to_yaml(s: Scenario) -> str:
    """The fully resolved scenario as YAML that loads back to the same Scenario."""
    return yaml.safe_dump(resolved_dict(s), sort_keys=False, allow_unicode=True)


def resolved_dict(s: Scenario) -> dict[str, Any]:
    return _plain(s.model_dump(mode="python"))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "A scenario file (same folder) this one builds on.",
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "clickfarm scenario"
    return schema
