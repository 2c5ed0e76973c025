"""What makes two runs the same run: content hashes, derived seeds and the code version.

A run is identified by what it computes, never by where it sits in a sweep:

* the *behaviour* of its scenario: the fully resolved scenario without its descriptive
  text (title, description, sources, assumptions) and without its ``seed`` field, which
  the run's own seed replaces;
* its seed, derived with numpy's ``SeedSequence`` from the sweep's master seed and the
  run's identity (behaviour and replicate number), so it does not depend on the order,
  executor or worker count;
* the code version: the package version plus a hash of the source files under ``sim/``
  that can change a result.

The run key hashes all three. Two sweeps that share a run share its key, so an extended
or resumed sweep never recomputes it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

DESCRIPTIVE_FIELDS = ("title", "description", "sources", "assumptions", "seed")
"""Scenario fields that do not change what a run computes (``seed`` is given per run)."""

FRONT_END_SOURCES = (
    "__main__.py",
    "cli.py",
    "canonical.py",
    "figures.py",
    "ui",
    "sweeps/commands.py",
    "sweeps/execute.py",
    "sweeps/analyze.py",
    "sweeps/plots.py",
)
"""Source files under ``sim/`` that only present results, so editing them keeps run keys."""

MAX_SEED = 2**63 - 1


def canonical_json(value: Any) -> str:
    """One fixed text for a value: sorted keys, no spaces, shortest float repr."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_jsonable
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"cannot hash a value of type {type(value).__name__}")


def digest(value: Any, length: int = 32) -> str:
    """A short hex SHA-256 of a value's canonical JSON (``length`` characters)."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:length]


def behaviour(resolved: dict[str, Any]) -> dict[str, Any]:
    """The part of a resolved scenario that determines what a run computes."""
    return {k: v for k, v in resolved.items() if k not in DESCRIPTIVE_FIELDS}


def run_seed(master_seed: int, behaviour_hash: str, replicate: int, common: bool) -> int:
    """The seed of one run (0 <= seed < 2**63).

    Independent seeds (the default) mix the master seed with the run's behaviour and its
    replicate number. Common random numbers (``common``) give every point of a sweep the
    same seed for the same replicate, which makes comparisons between points less noisy.
    """
    if common:
        key = (3, replicate)
    else:
        word = int(behaviour_hash[:32], 16)
        key = (2, word >> 64, word & (2**64 - 1), replicate)
    state = np.random.SeedSequence(master_seed, spawn_key=key).generate_state(1, np.uint64)
    return int(state[0]) >> 1


def design_seed(master_seed: int) -> int:
    """The seed of the design sampler (a stream of its own, apart from every run's)."""
    state = np.random.SeedSequence(master_seed, spawn_key=(1,)).generate_state(1, np.uint32)
    return int(state[0])


def run_key(behaviour_hash: str, seed: int, code: str) -> str:
    """The key of a run: a digest of its behaviour, its seed and the code version."""
    return digest({"behaviour": behaviour_hash, "seed": seed, "code": code})


def sim_root() -> Path:
    """The folder of the ``sim`` package."""
    return Path(__file__).resolve().parent.parent


@functools.cache
def code_version() -> str:
    """``<package version>+<hash of the sim/ sources>``, e.g. ``0.1.0+3f2a9c1d0b7e``.

    Computed from the files themselves, so it works without git and on every Dask worker,
    which must report the same version as the machine that plans the sweep.
    """
    from importlib import metadata

    try:
        version = metadata.version("clickfarm")
    except metadata.PackageNotFoundError:
        from sim import __version__ as version
    return f"{version}+{source_hash()}"


def source_hash(root: Path | None = None) -> str:
    """A hash of the sources that determine what a run computes (not the UI)."""
    root = root or sim_root()
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if any(rel == skip or rel.startswith(skip + "/") for skip in FRONT_END_SOURCES):
            continue
        h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def yaml_value(value: Any) -> str:
    """A value written so that the override parser (YAML) reads back exactly that value."""
    if value is None:
        return "null"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value}")
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        if e and "." not in mantissa:  # YAML 1.1 reads "1e-05" as text, "1.0e-05" as a number
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{json.dumps(str(k))}: {yaml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    raise ValueError(f"cannot write a value of type {type(value).__name__}")
