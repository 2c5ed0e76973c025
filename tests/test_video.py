"""Runs as video: frames spread over the run, GIF and MP4 written without a system ffmpeg."""

from __future__ import annotations

import subprocess
import sys

import imageio.v2 as imageio
import numpy as np

from sim.run.video import frame_hours


def test_frames_are_spread_evenly_and_end_with_the_run():
    assert frame_hours(12, 72) == list(range(1, 13))
    assert frame_hours(336, 72) == [*range(5, 336, 5), 336]
    assert frame_hours(1, 72) == [1]


def test_clickfarm_run_video_writes_a_gif_and_an_mp4_of_the_run(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "run",
            "baseline_microtask_market",
            "--days",
            "0.5",
            "--video",
            "--out",
            str(out),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    gif = imageio.mimread(out / "run.gif")
    assert len(gif) == 12 and gif[0].shape[:2] == (720, 1280)
    assert not np.array_equal(gif[0], gif[-1]), "the picture changes as the run goes on"
    with imageio.get_reader(out / "run.mp4", format="FFMPEG") as mp4:
        assert mp4.count_frames() == 12
