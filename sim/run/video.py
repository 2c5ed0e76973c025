"""A run as a video: the headline charts and where the money went, hour by hour.

The model is run from hour 0 to the end (runs are deterministic, so this is the same
run the CLI or the browser shows) and a frame is drawn every few hours with matplotlib:
actions and money so far, and the share of the clients' money each destination has
received. Frames become an animated GIF or an MP4 through imageio; the MP4 encoder is
the ffmpeg binary that the ``imageio-ffmpeg`` wheel ships, so no system ffmpeg is needed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.core.model import ClickFarmModel  # noqa: E402
from sim.run.figures import TIER_COLOURS  # noqa: E402
from sim.run.outputs import money_destinations  # noqa: E402
from sim.scenario.schema import Scenario  # noqa: E402

FORMATS = ("gif", "mp4")
FRAMES = 72
"""Frames in a video, whatever the run's length (an hour per frame for a 3-day run)."""
FPS = 8
SIZE = (12.8, 7.2)
"""Inches at 100 dpi: 1280 × 720 pixels, a multiple of 16 as video encoders like."""

ACTION_LINES = (
    ("total_delivered", "delivered"),
    ("total_surviving", "surviving moderation"),
    ("total_removed", "removed"),
)
MONEY_LINES = (("total_client_spend", "client spend"), ("total_worker_income", "workers' income"))


def frame_hours(total: int, frames: int = FRAMES) -> list[int]:
    """The hours after which a frame is drawn: evenly spread, always ending at ``total``."""
    every = max(1, math.ceil(total / frames))
    hours = list(range(every, total + 1, every))
    return hours if hours and hours[-1] == total else [*hours, total]


def frames(scenario: Scenario, count: int = FRAMES) -> Iterator[np.ndarray]:
    """Run ``scenario`` to its end and yield one RGB frame (uint8, 720 × 1280) per step."""
    model = ClickFarmModel(scenario)
    total, cur = model.max_steps, scenario.currency.code
    days = total / 24
    fig = plt.figure(figsize=SIZE, dpi=100)
    grid = fig.add_gridspec(2, 2, height_ratios=[3, 2])
    actions, money = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    shares = _ShareBar(fig.add_subplot(grid[1, :]), cur)
    lines = {}
    for ax, specs, title in (
        (actions, ACTION_LINES, "Actions (cumulative)"),
        (money, MONEY_LINES, f"Money (cumulative, {cur})"),
    ):
        for key, label in specs:
            (lines[key],) = ax.plot([], [], label=label, lw=2)
        ax.set_xlim(0, days)
        ax.set_title(title, fontsize=14)
        ax.set_xlabel("day", fontsize=12)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=11, loc="upper left")
    heading = fig.suptitle("", fontsize=15)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.88, bottom=0.08, hspace=0.45, wspace=0.2)
    history: dict[str, list[float]] = {k: [] for k, _ in ACTION_LINES + MONEY_LINES}
    hours: list[float] = []
    for until in frame_hours(total, count):
        while model.steps < until and model.running:
            model.step()
            hours.append(model.steps / 24)
            for key in history:
                history[key].append(float(model.metrics[key]))
        for key, line in lines.items():
            line.set_data(hours, history[key])
        for ax, specs in ((actions, ACTION_LINES), (money, MONEY_LINES)):
            top = max((max(history[k], default=0.0) for k, _ in specs), default=0.0)
            ax.set_ylim(0, max(top * 1.08, 1.0))
        shares.update(money_destinations(model))
        heading.set_text(f"{scenario.title}: day {model.steps / 24:.1f} of {days:g}")
        fig.canvas.draw()
        yield np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
        if not model.running:
            break
    plt.close(fig)


class _ShareBar:
    """One bar, drawn once and then resized: each destination's share of the money so far."""

    def __init__(self, ax: plt.Axes, currency: str) -> None:
        self.ax, self.currency = ax, currency
        ax.set_xlim(0, 1)
        ax.set_ylim(-1.2, 0.6)  # room for the legend under the bar
        ax.set_yticks([])
        ax.set_xlabel("share of the clients' money so far", fontsize=12)
        self.bars = {
            tier: ax.barh(0, 0.0, left=0.0, color=colour, label=tier)[0]
            for tier, colour in TIER_COLOURS.items()
        }
        self.labels = {
            tier: ax.text(
                0, 0, "", ha="center", va="center", color="white", fontsize=13, fontweight="bold"
            )
            for tier in TIER_COLOURS
        }
        ax.legend(frameon=False, fontsize=11, loc="lower center", ncol=len(TIER_COLOURS))
        self.title = ax.set_title("", fontsize=14)

    def update(self, destinations: dict[str, float]) -> None:
        total = sum(destinations.values())
        if total <= 0:
            self.title.set_text("Where the money went: nothing paid in money yet")
        else:
            self.title.set_text(f"Where the money went ({total:,.2f} {self.currency} spent)")
        left = 0.0
        for tier, bar in self.bars.items():
            share = destinations.get(tier, 0.0) / total if total > 0 else 0.0
            bar.set_x(left)
            bar.set_width(share)
            label = self.labels[tier]
            label.set_position((left + share / 2, 0))
            label.set_text(f"{share:.0%}" if share > 0.06 else "")
            left += share


def _writer(path: Path, fps: int):
    import imageio.v2 as imageio

    kind = path.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        raise ValueError(f"a video is a .gif or an .mp4 file, got {path.name!r}")
    if kind == "gif":
        return imageio.get_writer(path, mode="I", duration=1000 / fps, loop=0)
    return imageio.get_writer(
        path, format="FFMPEG", fps=fps, codec="libx264", quality=7, pixelformat="yuv420p"
    )


def write_videos(
    scenario: Scenario, paths: list[Path], count: int = FRAMES, fps: int = FPS
) -> list[Path]:
    """Write the run of ``scenario`` to every path (``.gif`` or ``.mp4``) in one pass."""
    paths = [Path(p) for p in paths]
    writers = [_writer(p, fps) for p in paths]
    try:
        for frame in frames(scenario, count):
            for w in writers:
                w.append_data(frame)
    finally:
        for w in writers:
            w.close()
    return paths


def write_run_videos(scenario: Scenario, seed: int, folder: Path) -> list[Path]:
    """``clickfarm run --video``: the run on ``seed`` as ``run.gif`` and ``run.mp4``."""
    seeded = scenario.model_copy(update={"seed": int(seed)})
    return write_videos(seeded, [Path(folder) / f"run.{kind}" for kind in FORMATS])


def video_bytes(scenario: Scenario, kind: str) -> bytes:
    """The run as the bytes of a ``kind`` (``gif`` or ``mp4``) file (for a download)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"run.{kind}"
        write_videos(scenario, [path])
        return path.read_bytes()
