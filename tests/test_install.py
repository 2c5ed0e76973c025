"""A non-editable install: the wheel and sdist build and pass twine, and an installed
``clickfarm`` runs a shipped scenario by name, away from the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT, SCENARIOS

pytest.importorskip("build")


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, f"{cmd}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The wheel and sdist, built from a copy of the tracked files (a clean clone)."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    base = tmp_path_factory.mktemp("install")
    clone = base / "clone"
    _run(["git", "clone", "--quiet", "--no-local", str(ROOT), str(clone)])
    # the working tree may hold changes not yet committed: build what is on disk
    tracked = _run(["git", "-C", str(ROOT), "ls-files", "-z"]).stdout.split("\0")
    for name in filter(None, tracked):
        source = ROOT / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    out = base / "dist"
    _run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(clone)])
    return out


def test_wheel_and_sdist_pass_twine_check_and_ship_the_scenarios(dist):
    wheels, sdists = list(dist.glob("*.whl")), list(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1
    _run([sys.executable, "-m", "twine", "check", "--strict", *map(str, wheels + sdists)])
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    assert {f"sim/_scenarios/{s}.yaml" for s in SCENARIOS} <= names
    assert any(n.startswith("sim/ui/") and n.endswith(".vue") for n in names)


def test_installed_wheel_runs_a_shipped_scenario_by_name(dist, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    wheel = next(dist.glob("*.whl"))
    # pip of the test environment installs the wheel alone into the fresh venv ...
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            str(wheel),
        ]
    )
    # ... which then borrows the test environment's dependencies, after its own packages
    purelib = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
        ).stdout.strip()
    )
    (purelib / "zz_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = _run([str(python), "-c", "import sim; print(sim.__file__)"], cwd=tmp_path, env=env)
    assert Path(where.stdout.strip()).is_relative_to(venv), "sim must come from the wheel"
    listed = _run([str(bin_dir / "clickfarm"), "list"], cwd=tmp_path, env=env)
    assert all(name in listed.stdout for name in SCENARIOS)
    out = tmp_path / "result"
    _run(
        [
            str(bin_dir / "clickfarm"),
            "run",
            "bots_vs_click_workers",
            "--days",
            "0.25",
            "--out",
            str(out),
            "-q",
        ],
        cwd=tmp_path,
        env=env,
    )
    assert (out / "summary.json").is_file() and (out / "manifest.json").is_file()
    version = _run([str(bin_dir / "clickfarm"), "--version"], cwd=tmp_path, env=env)
    assert version.stdout.startswith("clickfarm ")
