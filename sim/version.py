"""The two versions a result carries: the package's and the model's.

The **package version** (``clickfarm.__version__``, from the installed metadata) names a
release of the software: its commands, file formats and fixes.

The **model version** names the model's behaviour: what a given scenario and seed
produce. It is ``MAJOR.MINOR`` and lives here only. Bump it in the same commit as any
change that alters a result of the same scenario and seed:

* ``MINOR`` when the numbers move but the model means the same thing (a bug fix in a
  rule, a recalibrated constant, a different order of draws from the random stream);
* ``MAJOR`` when a mechanism is added, removed or redefined (a new market, a new kind
  of agent, a metric whose definition changes), so results of different majors should
  not be compared as if they were the same model.

A change that leaves every result identical (refactoring, speed, the UI, the CLI, the
docs) keeps the model version. ``results/MODEL_VERSION.json`` records the model version
with a hash of each canonical summary; the test suite fails when a summary changes under
an unchanged model version, and ``make results`` refuses to record such a change.
"""

from __future__ import annotations

MODEL_VERSION = "3.0"
"""Version of the model's behaviour (see the module docstring for when to bump it)."""


def package_version() -> str:
    """The installed clickfarm version, or the source tree's when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version("clickfarm")
    except metadata.PackageNotFoundError:
        from sim import __version__

        return __version__


def version_line() -> str:
    """What ``clickfarm --version`` prints, e.g. ``clickfarm 0.1.0 (model 1.0)``."""
    return f"clickfarm {package_version()} (model {MODEL_VERSION})"
