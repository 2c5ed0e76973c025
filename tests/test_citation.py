"""CITATION.cff and CHANGELOG.md exist, are well formed and agree with the package."""

import tomllib

import yaml

from .conftest import ROOT

CFF_REQUIRED = ("cff-version", "message", "title", "authors")


def test_citation_file_is_cff_1_2_with_the_package_version():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert all(key in cff for key in CFF_REQUIRED)
    assert cff["cff-version"] == "1.2.0"
    assert all("name" in a or "family-names" in a for a in cff["authors"])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert str(cff["version"]) == project["version"]
    assert cff["license"] == project["license"]


def test_changelog_follows_keep_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog")
    assert "## [Unreleased]" in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"## [{project['version']}]" in text
