"""The notebooks in docs/notebooks run top to bottom, and are stored without outputs."""

from __future__ import annotations

import json

import pytest

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))
REQUIRED = ("01_quickstart", "02_sweep_and_analyse", "03_compare_cases", "04_ui_in_jupyter")


def test_the_four_notebooks_exist_and_are_stored_without_outputs():
    assert {p.stem for p in NOTEBOOKS} >= set(REQUIRED)
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    book = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        book,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )  # "python3" starts this interpreter (jupyter_client swaps in sys.executable)
    client.execute()
    errors = [
        out
        for cell in book.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors
    if path.stem.startswith("04_"):  # the UI cells must show widgets, not just run
        shown = [
            out
            for cell in book.cells
            if cell.cell_type == "code"
            for out in cell.outputs
            if "application/vnd.jupyter.widget-view+json" in out.get("data", {})
        ]
        assert len(shown) >= 2
