"""Parameter sweeps: many runs of one scenario, stored as a resumable Parquet dataset.

The layers, each in its own module:

* :mod:`sim.sweeps.spec` reads and checks a sweep file (YAML, errors with file and line);
* :mod:`sim.sweeps.design` turns its parameters into points (grid, random, Latin
  hypercube, Sobol, Morris) and every point into validated runs with derived seeds;
* :mod:`sim.sweeps.store` keys runs by content and writes each one atomically;
* :mod:`sim.sweeps.execute` runs what is missing, on local processes or a Dask cluster;
* :mod:`sim.sweeps.analyze` turns a finished dataset into tables, plots and indices;
* :mod:`sim.sweeps.commands` adds ``clickfarm sweep`` and ``clickfarm analyze``.

Nothing here is imported by the model core; Dask is imported only for ``--scheduler``.
"""

from __future__ import annotations

__all__ = ["load_sweep", "run_sweep", "analyze_sweep"]


def __getattr__(name: str):  # keep ``import sim.sweeps`` light: load on first use
    if name == "load_sweep":
        from sim.sweeps.spec import load_sweep

        return load_sweep
    if name == "run_sweep":
        from sim.sweeps.execute import run_sweep

        return run_sweep
    if name == "analyze_sweep":
        from sim.sweeps.analyze import analyze_sweep

        return analyze_sweep
    raise AttributeError(name)
