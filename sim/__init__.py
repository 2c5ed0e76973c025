"""clickfarm: agent-based simulation of click-farm economies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario, shipped_scenarios

if TYPE_CHECKING:
    from sim.core.model import ClickFarmModel

__version__ = "0.1.0"
__all__ = ["ClickFarmModel", "ScenarioError", "load_scenario", "shipped_scenarios", "__version__"]


def __getattr__(name: str) -> Any:
    # The model pulls in Mesa and pandas; load it only when asked for, so that quick
    # commands such as `clickfarm validate` start fast.
    if name == "ClickFarmModel":
        from sim.core.model import ClickFarmModel

        return ClickFarmModel
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
