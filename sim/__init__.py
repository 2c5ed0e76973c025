"""clickfarm: agent-based simulation of click-farm economies."""

from sim.errors import ScenarioError
from sim.model import ClickFarmModel
from sim.scenario import load_scenario, shipped_scenarios

__version__ = "0.1.0"
__all__ = ["ClickFarmModel", "ScenarioError", "load_scenario", "shipped_scenarios", "__version__"]
