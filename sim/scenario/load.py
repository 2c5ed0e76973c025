"""The one road in: every scenario enters the program through :func:`load_scenario`.

A scenario can come as a shipped name, a file path, YAML text, a plain mapping, a
document already read, or a validated ``Scenario``; ``dotted.key=value`` overrides apply
to any of them. Whatever the source, the result is validated by the same rules (schema,
then the cross-field checks below) and every problem is one located ``ScenarioError``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic
import yaml

from sim.scenario.budget import check_budget
from sim.scenario.document import SourcedDoc, apply_overrides, load_document, parse_yaml
from sim.scenario.errors import ScenarioError
from sim.scenario.fields import friendly_path
from sim.scenario.messages import validation_error
from sim.scenario.schema import ROUTING_TACTICS, Scenario
from sim.scenario.student_events import STUDENT_CHECKS, STUDENT_FIELDS

ScenarioSource = str | Path | dict | SourcedDoc | Scenario
"""What :func:`load_scenario` accepts (see there)."""


def scenarios_dir() -> Path:
    """Where the shipped scenarios live (the checkout's ``scenarios/`` or the wheel's copy)."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_scenarios", package.parent / "scenarios"):
        if candidate.is_dir():
            return candidate
    return package.parent / "scenarios"


def shipped_scenarios() -> dict[str, Path]:
    """The shipped scenarios by name (file stem), in name order."""
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


def load_scenario(
    source: ScenarioSource, overrides: list[str] | None = None, *, label: str | None = None
) -> Scenario:
    """Any scenario source plus ``dotted.key=value`` overrides, fully validated.

    Args:
        source: a shipped scenario name (``fillon2017_points``), a path to a YAML file,
            YAML text (a string with a line break), a plain mapping, a
            :class:`~sim.scenario.document.SourcedDoc`, or a ``Scenario``.
        overrides: ``dotted.key=value`` assignments, validated like values in the file;
            errors name the assignment.
        label: what errors call a text or mapping source (default ``<text>``/``<dict>``).

    Raises:
        ScenarioError: anything wrong, located by file, line and field.

    >>> load_scenario("fillon2017_points", ["days=2"]).days
    2.0
    """
    if isinstance(source, Scenario) and not overrides:
        return source
    doc = scenario_document(source, label=label)
    if overrides:
        doc = apply_overrides(doc, list(overrides))
    return _validate(doc)


def scenario_document(source: ScenarioSource, *, label: str | None = None) -> SourcedDoc:
    """The plain document of a source (with each value's file and line where known).

    Text is parsed safely and may not use ``extends:`` (it has no folder to look in).
    """
    if isinstance(source, SourcedDoc):
        return source
    if isinstance(source, Scenario):
        return SourcedDoc(data=resolved_dict(source), files=[label or "<scenario>"])
    if isinstance(source, dict):
        return SourcedDoc(data=source, files=[label or "<dict>"])
    if isinstance(source, str) and _is_text(source):
        return text_document(source, label or "<text>")
    return load_document(resolve_path(source))


def text_document(text: str, label: str) -> SourcedDoc:
    """Scenario YAML given as text (pasted, uploaded); ``extends:`` has no folder to use."""
    doc = parse_yaml(text, label)
    if "extends" in doc.data:
        file, line = doc.locate(("extends",))
        raise ScenarioError(
            "extends: only works for files on disk; paste or upload the complete scenario",
            file=file,
            line=line,
            field="extends",
        )
    return doc


def source_file(source: ScenarioSource) -> str | None:
    """The file a source names (for manifests), or None for text, mappings and Scenarios."""
    if isinstance(source, Path) or (isinstance(source, str) and not _is_text(source)):
        return str(resolve_path(source))
    return None


def _is_text(source: str) -> bool:
    return "\n" in source or "\r" in source


def _validate(doc: SourcedDoc) -> Scenario:
    try:
        scenario = Scenario.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, doc) from None
    check_references(scenario, doc)
    return scenario


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
    _check_turnover(s, fail)
    _check_networks(s, fail)
    _check_account_market(s, fail)
    _check_money(s, doc, fail)
    check_budget(s, fail)


def _check_turnover(s: Scenario, fail) -> None:
    """Turnover and learning are for people: a bot group with either is refused."""
    for i, g in enumerate(s.workers):
        for block in ("turnover", "learning"):
            if g.kind == "bot" and getattr(g, block) is not None:
                fail(
                    ("workers", i, block),
                    f"bots neither join, leave nor learn; expected no {block}: section "
                    "in a group of kind bot",
                )


def _check_networks(s, fail) -> None:
    """A follower network sets only its generator's parameters and fits in memory."""
    from sim.scenario.schema import MAX_NETWORK_EDGES, NETWORK_FIELDS

    shape = set().union(*NETWORK_FIELDS.values())
    for i, r in enumerate(s.recruiters):
        net = r.influencers.network if r.influencers is not None else None
        if net is None:
            continue
        loc = ("recruiters", i, "influencers", "network")
        uses = NETWORK_FIELDS[net.generator]
        for name in sorted((shape - uses) & net.model_fields_set):
            fail(
                (*loc, name),
                f"the {net.generator} generator does not use {name}; expected only: "
                f"{', '.join(sorted(uses))} (and the cascade fields)",
            )
        if net.generator == "watts_strogatz" and net.neighbours % 2:
            fail((*loc, "neighbours"), f"expected an even number, got {net.neighbours}")
        followers = sum(g.count for g in s.workers if g.recruiter == r.id)
        if followers < net.smallest_graph():
            fail(
                (*loc, "generator"),
                f"{net.generator} needs at least {net.smallest_graph()} followers with "
                f"these parameters; the network has {followers}",
            )
        ties = net.expected_ties(followers)
        if ties > MAX_NETWORK_EDGES:
            fail(
                loc,
                f"{followers:,} followers would have about {ties:,.0f} ties; expected at most "
                f"{MAX_NETWORK_EDGES:,} (fewer followers or ties per follower)",
            )


def _check_events(s, recruiters, fail) -> None:
    """Each event names what exists and sets what its kind uses.

    An event dated after the end of the run is allowed: it never takes effect.
    """
    from sim.scenario.schema import EVENT_FIELDS, OPTIONAL_EVENT_FIELDS

    seen: set[str] = set()
    optional = {"trust_below", "moderators", "bias", "recruiter", "factor", *STUDENT_FIELDS}
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
        if e.verdicts and "verdicts" not in uses:
            fail(
                (*loc, "verdicts"),
                f"a {e.kind} event does not use verdicts; expected only: {', '.join(sorted(uses))}",
            )
        if e.kind == "detector":
            if e.bias is None and not e.weights:
                fail(loc, "a detector event needs a new bias or weights; expected at least one")
            continue
        for name in sorted(uses - OPTIONAL_EVENT_FIELDS.get(e.kind, set()) - {"verdicts"}):
            if getattr(e, name) is None:
                fail(loc, f"a {e.kind} event needs {name}; expected a value for it")
        if e.recruiter is not None and e.recruiter not in recruiters:
            fail(
                (*loc, "recruiter"),
                f"names recruiter '{e.recruiter}', which does not exist; "
                f"expected one of: {', '.join(recruiters)}",
            )
        if e.kind in STUDENT_CHECKS:
            STUDENT_CHECKS[e.kind](s, e, loc, fail)
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


def _check_account_market(s: Scenario, fail) -> None:
    """Profiles-as-accounts and the buy_aged tactic need the account market; its money fits."""
    campaigns = {c.id: c for c in s.campaigns}
    market = s.account_market
    for i, g in enumerate(s.workers):
        if g.accounts_from is None:
            continue
        loc = ("workers", i, "accounts_from")
        if market is None:
            fail(loc, "accounts made from a campaign's profiles need an account_market: section")
        c = campaigns.get(g.accounts_from)
        if c is None:
            fail(
                loc,
                f"names campaign '{g.accounts_from}', which does not exist; expected one of: "
                f"{', '.join(campaigns)}",
            )
        if not c.actions.get("fake_profile"):
            fail(loc, f"campaign '{c.id}' orders no fake_profile; expected one that does")
    for i, r in enumerate(s.recruiters):
        if "buy_aged" in r.tactics.repertoire and market is None:
            fail(
                ("recruiters", i, "tactics", "repertoire"),
                "the buy_aged tactic buys on the account market; expected an account_market: "
                "section",
            )
    if market is None:
        return
    scale = s.currency.minor_units
    made = market.initial_stock + market.makers_per_hour * s.steps
    swaps = market.aged_per_hour * len(s.recruiters) * s.steps
    top_price = (
        float(market.base_price)
        * (1 + market.age_premium)
        * (1 + market.trust_premium)
        * market.max_scarcity
    )
    # every account is made once; each sale or buy-back moves at most the top price
    bound = (made + swaps) * (float(market.creation_cost) + 2 * top_price) * scale
    if 4 * bound > 2**63 - 1:
        fail(
            ("account_market",),
            f"account sales in this run could reach {bound:,.0f} ledger units, more than the "
            "ledger's 64-bit integers hold; expected lower prices, fewer accounts made or a "
            "smaller currency.minor_units",
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
    for i, r in enumerate(s.recruiters):
        _check_tactics(s, i, r, leaves, children, fail)
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


def _check_tactics(s, i: int, r, leaves, children, fail) -> None:
    """Delivery tactics belong to bottom-level recruiters, routing tactics to top-level ones."""
    loc = ("recruiters", i, "tactics")
    for j, name in enumerate(r.tactics.repertoire):
        if name not in ROUTING_TACTICS:
            if r.id not in leaves:
                fail(
                    (*loc, "repertoire", j),
                    f"'{name}' is a tactic of the recruiters whose workers deliver; expected "
                    "a bottom-level recruiter (one without sub-recruiters), or to_people / "
                    "to_bots",
                )
            continue
        if r.parent is not None or r.id in leaves:
            fail(
                (*loc, "repertoire", j),
                f"'{name}' chooses which sub-recruiters get the orders; expected a top-level "
                "recruiter with sub-recruiters",
            )
        wanted = "bot" if name == "to_bots" else "human"
        below = _subtree_leaves(r.id, children)
        if not any(g.recruiter in below and g.kind == wanted for g in s.workers):
            fail(
                (*loc, "repertoire", j),
                f"'{name}' moves the orders to {'bots' if wanted == 'bot' else 'people'}, but "
                f"no {wanted} workers work below '{r.id}'; expected workers of kind "
                f"{wanted} under one of its sub-recruiters",
            )
    for name in r.tactics.cost_per_action:
        if name in ROUTING_TACTICS:
            fail(
                (*loc, "cost_per_action", name),
                f"'{name}' costs nothing itself (the sub-recruiters' charges change the "
                "cost); expected a delivery tactic: drip_feed, older_accounts, "
                "more_accounts or buy_aged",
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
    """The scenario as plain data (money as int or float) that validates back to itself."""
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
    """The JSON Schema of scenario files (for editors), ``extends:`` included."""
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "A scenario file (same folder) this one builds on.",
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "clickfarm scenario"
    return schema
