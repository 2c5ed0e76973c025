"""Links to a run: the URL's query string holds everything needed to rebuild what is on screen.

A link names the scenario (a shipped scenario by name, or pasted YAML compressed into the
link), the seed, every parameter change, the tab and the hour. Opening it on another
computer with the same version of clickfarm rebuilds the same run, because runs are
deterministic. A link is input from anyone, so reading one is as strict as reading a
scenario file: unknown names, oversized text and bad values are refused with one line.
"""

from __future__ import annotations

import base64
import io
import json
import zlib
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

import segno

from sim.scenario.load import shipped_scenarios
from sim.ui.session import MAX_SEED, MAX_UPLOAD_BYTES, Setup

TABS = ("explore", "compare", "present")
MAX_LINK_CHARS = 8000
"""Longest query string a link may have (browsers and QR codes handle this much)."""
MAX_CHANGES = 200


class LinkError(ValueError):
    """A link that cannot be opened; the message says why in one line."""


@dataclass(frozen=True)
class RunLink:
    """What a link rebuilds: a set-up, the tab on screen and the hour reached."""

    setup: Setup
    tab: str = "explore"
    hour: int = 0
    slide: int = 0


def _pack(text: str) -> str:
    return base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")


def _unpack(packed: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
        inflate = zlib.decompressobj()
        text = inflate.decompress(raw, MAX_UPLOAD_BYTES + 1)  # never inflate a bomb
    except (ValueError, zlib.error) as exc:
        raise LinkError("the link's scenario text is damaged") from exc
    if len(text) > MAX_UPLOAD_BYTES or inflate.unconsumed_tail:
        raise LinkError(f"the link's scenario is larger than {MAX_UPLOAD_BYTES // 1000:,} kB")
    try:
        return text.decode()
    except UnicodeDecodeError as exc:
        raise LinkError("the link's scenario text is not UTF-8") from exc


def to_query(link: RunLink) -> str:
    """The query string (without ``?``) that :func:`from_query` turns back into ``link``."""
    s = link.setup
    pairs: list[tuple[str, str]] = []
    if s.is_shipped:
        pairs.append(("scenario", s.source))
    else:
        pairs += [("name", s.source), ("yaml", _pack(s.text or ""))]
    if s.seed is not None:
        pairs.append(("seed", str(int(s.seed))))
    pairs += [("set", f"{k}={json.dumps(v)}") for k, v in s.changes]
    pairs += [("tab", link.tab), ("hour", str(int(link.hour)))]
    if link.tab == "present":
        pairs.append(("slide", str(int(link.slide))))
    return urlencode(pairs)


def link_fits(query: str) -> bool:
    """Whether a query string is short enough to share as a link."""
    return len(query) <= MAX_LINK_CHARS


def _whole(name: str, text: str, hi: int) -> int:
    if not text.isdigit() or int(text) > hi:
        raise LinkError(f"the link's {name} must be a whole number from 0 to {hi:,}, got {text!r}")
    return int(text)


def from_query(query: str) -> RunLink | None:
    """The run a query string describes; ``None`` when it is not a link to a run.

    Raises:
        LinkError: the query names a run but something in it is wrong.
    """
    query = query.lstrip("?")
    if len(query) > MAX_LINK_CHARS:
        raise LinkError(f"the link is longer than {MAX_LINK_CHARS:,} characters")
    pairs = parse_qsl(query, keep_blank_values=True)
    keys = [k for k, _ in pairs]
    if "scenario" not in keys and "yaml" not in keys:
        return None
    values = {k: v for k, v in pairs if k != "set"}
    if "scenario" in values:
        source = values["scenario"]
        if source not in shipped_scenarios():
            raise LinkError(f"the link names no shipped scenario: {source[:80]!r}")
        text = None
    else:
        source = values.get("name", "linked scenario")[:120] or "linked scenario"
        text = _unpack(values["yaml"])
    changes = []
    for k, v in pairs:
        if k != "set":
            continue
        key, sep, raw = v.partition("=")
        try:
            value = json.loads(raw) if sep else None
        except json.JSONDecodeError:
            value = None
        if not key or not isinstance(value, int | float | bool):
            raise LinkError(f"the link's change {v[:80]!r} is not key=number")
        changes.append((key, value))
    if len(changes) > MAX_CHANGES:
        raise LinkError(f"the link makes more than {MAX_CHANGES} changes")
    seed = _whole("seed", values["seed"], MAX_SEED) if "seed" in values else None
    tab = values.get("tab", "explore")
    if tab not in TABS:
        raise LinkError(f"the link's tab must be one of {', '.join(TABS)}, got {tab[:20]!r}")
    hour = _whole("hour", values.get("hour", "0"), 24 * 3650)
    slide = _whole("slide", values.get("slide", "0"), 100)
    return RunLink(Setup(source, text, tuple(changes), seed), tab, hour, slide)


def qr_svg(url: str, scale: int = 4) -> str:
    """The link as a QR code, an inline SVG drawn here (nothing is fetched)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=scale, xmldecl=False, svgns=True)
    return out.getvalue().decode()
