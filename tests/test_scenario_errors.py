"""Bad scenario input must give one clear, located error (exit code 2), never a traceback.

Each case copies a shipped scenario, breaks one thing, and checks both the Python API
(``ScenarioError.file`` / ``.line`` / ``.field`` and the wording) and the command line
(``validate`` and ``run``: exit code 2, one line on stderr, no results folder).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario, shipped_scenarios

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BASE_NAME = "bots_vs_click_workers.yaml"
BASE = (SCENARIOS / BASE_NAME).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- helpers


def edit(text: str, old: str, new: str) -> str:
    """Replace the first occurrence of ``old`` (which must be present)."""
    assert old in text, f"test setup: {old!r} not in the scenario"
    return text.replace(old, new, 1)


def _item_block(lines: list[str], item_id: str) -> tuple[int, int, str]:
    """(first, end, field indent) of the list item ``- id: <item_id>``."""
    for first, line in enumerate(lines):
        match = re.match(rf"^(\s*)- id: {re.escape(item_id)}\s*$", line)
        if match:
            indent = match.group(1) + "  "
            end = first + 1
            while end < len(lines) and (not lines[end].strip() or lines[end].startswith(indent)):
                end += 1
            return first, end, indent
    raise AssertionError(f"test setup: no item '{item_id}' in the scenario")


def add_field(text: str, item_id: str, entry: str) -> str:
    """Insert ``entry`` (``key: value``) as the first field after ``- id: <item_id>``."""
    lines = text.splitlines(keepends=True)
    first, _end, indent = _item_block(lines, item_id)
    lines.insert(first + 1, f"{indent}{entry}\n")
    return "".join(lines)


def set_field(text: str, item_id: str, key: str, value: str | None) -> str:
    """Give ``key`` of item ``item_id`` a new raw YAML ``value`` (None: remove its line).

    Works for ``key: value`` lines and for keys inside one-line ``{...}`` mappings.
    """
    lines = text.splitlines(keepends=True)
    first, end, _indent = _item_block(lines, item_id)
    for i in range(first, end):
        block = re.match(rf"^(\s*(?:- )?{key}):[ \t]*(.*)$", lines[i].rstrip("\n"))
        if block:
            if value is None:
                del lines[i]
            else:
                lines[i] = f"{block.group(1)}: {value}\n"
            return "".join(lines)
    for i in range(first, end):
        flow = re.search(rf"(?<![\w]){key}: [^,}}\n]+", lines[i])
        if flow and value is not None:
            lines[i] = lines[i][: flow.start()] + f"{key}: {value}" + lines[i][flow.end() :]
            return "".join(lines)
    raise AssertionError(f"test setup: no field '{key}' in item '{item_id}'")


def set_top(text: str, key: str, value: str) -> str:
    """Give the top-level ``key`` a new raw YAML value."""
    new, count = re.subn(rf"(?m)^{key}:.*$", f"{key}: {value}", text, count=1)
    assert count == 1, f"test setup: no top-level '{key}'"
    return new


def line_of(text: str, snippet: str) -> int:
    """The 1-based number of the one line of ``text`` that contains ``snippet``."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if snippet in line]
    assert len(hits) == 1, f"test setup: {snippet!r} is on lines {hits}"
    return hits[0]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="80", NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        cwd=cwd,
        env=env,
        timeout=300,
    )


def assert_cli_error(proc: subprocess.CompletedProcess[str], *must_contain: str) -> str:
    """Exit code 2, exactly one line on stderr containing each string, no traceback."""
    everything = proc.stdout + proc.stderr
    assert "Traceback" not in everything, everything
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{proc.stderr}"
    for text in must_contain:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"
    assert proc.returncode == 2, f"exit code {proc.returncode}; stderr: {proc.stderr}"
    return lines[0]


def assert_run_fails_cleanly(tmp_path: Path, *args: str | Path, must_contain: tuple = ()) -> None:
    out = tmp_path / "results" / "run1"
    proc = cli("run", *args, "--out", out, "--quiet")
    assert_cli_error(proc, *must_contain)
    assert not out.exists(), "a results folder was created for a scenario that failed"
    assert not (tmp_path / "results").exists(), "something was written for a failed run"


# --------------------------------------------------------------------------- the cases


@dataclass
class Case:
    """One broken scenario: its text, and where/what the error must say."""

    text: str
    field: str | None
    line: str | int | None  # a snippet on the offending line, or a line number
    says: tuple[str, ...] = ()
    extra_files: dict[str, str] = field(default_factory=dict)

    def expected_line(self) -> int | None:
        return line_of(self.text, self.line) if isinstance(self.line, str) else self.line


CASES: dict[str, Case] = {
    "unknown_key": Case(
        add_field(BASE, "bot_posts", "colour: red"),
        "campaigns.bot_posts.colour",
        "colour: red",
        ("unknown field 'colour'", "expected one of", "urgency"),
    ),
    "unknown_key_with_block_value": Case(
        edit(BASE, "  moderation:\n", "  moderaton:\n"),
        "platform.moderaton",
        "moderaton:",
        ("unknown field 'moderaton'", "expected one of", "moderation"),
    ),
    "unknown_top_level_key": Case(
        BASE + "seeds: 3\n",
        "seeds",
        "seeds: 3",
        ("unknown field 'seeds'", "expected one of", "seed"),
    ),
    "wrong_type_int": Case(
        set_field(BASE, "bots", "count", "lots"),
        "workers.bots.count",
        "count: lots",
        ("expected a whole number", "'lots'"),
    ),
    "wrong_type_bool": Case(
        add_field(BASE, "bot_posts", "drip_feed: maybe"),
        "campaigns.bot_posts.drip_feed",
        "drip_feed: maybe",
        ("expected true or false", "'maybe'"),
    ),
    "wrong_type_mapping": Case(
        edit(BASE, "  moderation:\n", "  moderation: 7\n  old_moderation:\n"),
        "platform.moderation",
        "moderation: 7",
        ("expected a mapping",),
    ),
    "wrong_type_list_item": Case(
        edit(BASE, "campaigns:\n", "campaigns:\n  - 3\n"),
        "campaigns.0",
        "  - 3",
        ("expected a mapping", "got 3"),
    ),
    "out_of_range_high": Case(
        add_field(BASE, "bot_posts", "urgency: 9"),
        "campaigns.bot_posts.urgency",
        "urgency: 9",
        ("expected a number <= 3", "got 9"),
    ),
    "out_of_range_low": Case(
        set_field(BASE, "click_workers", "count", "-5"),
        "workers.click_workers.count",
        "count: -5",
        ("expected a number >= 0", "got -5"),
    ),
    "out_of_range_in_flow_mapping": Case(
        set_field(BASE, "bots", "trust", "1.5"),
        "workers.bots.accounts.trust",
        "trust: 1.5",
        ("expected a number <= 1", "1.5"),
    ),
    "bad_choice": Case(
        set_field(BASE, "click_farm", "kind", "factory"),
        "recruiters.click_farm.kind",
        "kind: factory",
        ("expected", "'farm'", "got 'factory'"),
    ),
    "bad_action_name": Case(
        set_field(BASE, "bot_posts", "actions", "{tweet: 10000}"),
        "campaigns.bot_posts.actions.tweet",
        "{tweet: 10000}",
        ("'tweet'", "expected", "'post'"),
    ),
    "bad_region_name": Case(
        edit(BASE, "  low_wage: {", "  Low-Wage: {"),
        "regions.Low-Wage",
        "Low-Wage:",
        ("'Low-Wage'", "expected a name of lower-case letters"),
    ),
    "missing_required_field": Case(
        set_field(BASE, "bot_posts", "client", None),
        "campaigns.bot_posts.client",
        "- id: bot_posts",
        ("required field is missing",),
    ),
    "inexact_money": Case(
        set_field(BASE, "bot_operator", "software_cost", "0.0000001"),
        "recruiters.bot_operator.software_cost",
        "software_cost: 0.0000001",
        ("not a whole number of ledger units", "expected a multiple of 0.000001"),
    ),
    "duplicate_key": Case(
        BASE + "seed: 3\n",
        "seed",
        "seed: 3",
        ("duplicate key 'seed'",),
    ),
    "duplicate_id": Case(
        set_field(BASE, "click_workers", "id", "bots"),
        "workers.bots.id",
        line_of(BASE, "- id: click_workers"),
        ("duplicate id 'bots'",),
    ),
    "campaign_names_missing_recruiter": Case(
        set_field(BASE, "bot_posts", "recruiter", "nobody"),
        "campaigns.bot_posts.recruiter",
        "recruiter: nobody",
        ("'nobody'", "does not exist", "expected one of: bot_operator, click_farm"),
    ),
    "worker_group_names_missing_region": Case(
        set_field(BASE, "click_workers", "region", "mars"),
        "workers.click_workers.region",
        "region: mars",
        ("'mars'", "does not exist", "expected one of: low_wage, united_states"),
    ),
    "worker_group_names_missing_recruiter": Case(
        set_field(BASE, "click_workers", "recruiter", "ghost"),
        "workers.click_workers.recruiter",
        "recruiter: ghost",
        ("'ghost'", "does not exist"),
    ),
    "campaign_names_missing_audience_region": Case(
        set_field(BASE, "human_posts", "audience_region", "atlantis"),
        "campaigns.human_posts.audience_region",
        "audience_region: atlantis",
        ("'atlantis'", "does not exist", "expected one of"),
    ),
    "malformed_yaml_flow": Case(
        set_top(BASE, "seed", "[10000"),
        None,
        line_of(set_top(BASE, "seed", "[10000"), "seed: [10000") + 1,  # noticed a line later
        ("malformed YAML", "expected ',' or ']'"),
    ),
    "malformed_yaml_colon": Case(
        set_top(BASE, "days", "3: 4"),
        None,
        "days: 3: 4",
        ("malformed YAML", "expected valid YAML"),
    ),
    "malformed_yaml_indent": Case(
        set_field(BASE, "bot_posts", "client", "Buyer A\n      oops: indented too far"),
        None,
        "oops: indented too far",
        ("malformed YAML",),
    ),
    "python_tag_on_list": Case(
        set_top(BASE, "seed", "!!python/object/apply:os.system ['echo PWNED']"),
        "seed",
        "!!python",
        ("YAML tag '!!python/object/apply:os.system' is not allowed", "expected plain YAML"),
    ),
    "python_tag_on_scalar": Case(
        set_top(BASE, "days", "!!python/name:os.system"),
        "days",
        "!!python",
        ("YAML tag '!!python/name:os.system' is not allowed",),
    ),
    "python_tag_on_mapping": Case(
        edit(BASE, "  moderation:\n", "  moderation: !!python/object:os.Popen\n"),
        "platform.moderation",
        "!!python",
        ("YAML tag '!!python/object:os.Popen' is not allowed",),
    ),
    "python_tag_in_list_item": Case(
        set_field(BASE, "bots", "count", "!!python/object/new:int [5]"),
        "workers.bots.count",
        "!!python",
        ("is not allowed",),
    ),
    "empty_file": Case("", None, 1, ("empty", "expected a mapping")),
    "comments_only_file": Case("# nothing here\n\n", None, 1, ("empty",)),
    "top_level_list": Case("- a\n- b\n", None, 1, ("expected a mapping",)),
    "extends_cycle": Case(
        "extends: other.yaml\ntitle: x\n",
        "extends",
        None,  # reported in other.yaml, checked separately
        ("cycle", "other.yaml", "bad.yaml"),
        {"other.yaml": "title: y\nextends: bad.yaml\n"},
    ),
    "extends_itself": Case(
        "title: x\nextends: bad.yaml\n", "extends", "extends:", ("cycle", "bad.yaml")
    ),
    "extends_absolute_path": Case(
        "extends: /etc/passwd\n", "extends", "extends:", ("not a plain file name",)
    ),
    "extends_dotdot": Case(
        f"extends: ../{BASE_NAME}\n",
        "extends",
        "extends:",
        ("not a plain file name", "same folder"),
    ),
    "extends_subfolder": Case(
        "extends: sub/parent.yaml\n", "extends", "extends:", ("not a plain file name",)
    ),
    "extends_not_yaml": Case(
        "extends: notes.txt\n",
        "extends",
        "extends:",
        ("not a .yaml file", "expected a .yaml or .yml"),
        {"notes.txt": "title: t\n"},
    ),
    "extends_missing_file": Case(
        "title: x\nextends: nowhere.yaml\n", "extends", "extends:", ("'nowhere.yaml' not found",)
    ),
    "extends_not_text": Case(
        "extends: [a.yaml]\n", "extends", "extends:", ("expected the name of a .yaml file",)
    ),
    "extends_empty": Case("extends:\ntitle: x\n", "extends", "extends:", ("expected the name",)),
}

RUN_CASES = [
    "unknown_key",
    "wrong_type_int",
    "out_of_range_high",
    "campaign_names_missing_recruiter",
    "worker_group_names_missing_region",
    "malformed_yaml_flow",
    "python_tag_on_list",
    "empty_file",
    "extends_cycle",
    "extends_absolute_path",
]


def make_case(tmp_path: Path, name: str) -> tuple[Path, Case]:
    case = CASES[name]
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "sub").mkdir()
    write(folder / "sub", "parent.yaml", BASE)
    write(tmp_path, BASE_NAME, BASE)  # exists, so only the '..' itself is refused
    for extra, text in case.extra_files.items():
        write(folder, extra, text)
    return write(folder, "bad.yaml", case.text), case


def expected_location(path: Path, name: str) -> tuple[str, int | None]:
    if name == "extends_cycle":  # the cycle closes at other.yaml's extends: line
        return str(path.parent / "other.yaml"), 2
    return str(path), CASES[name].expected_line()


@pytest.mark.parametrize("name", list(CASES))
def test_api_error_is_located(tmp_path: Path, name: str) -> None:
    path, case = make_case(tmp_path, name)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    error = info.value
    file, line = expected_location(path, name)
    assert error.file == file
    assert error.line == line
    assert error.field == case.field
    text = str(error)
    assert "\n" not in text
    assert text.startswith(f"{file}:{line}:" if line else f"{file}:")
    for fragment in case.says:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    assert "expected" in text
    if case.field:
        assert f" {case.field}: " in text


@pytest.fixture(scope="module")
def validated(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    """``clickfarm validate`` on every broken case, run side by side to save time."""
    paths = {name: make_case(tmp_path_factory.mktemp(name), name)[0] for name in CASES}
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        procs = list(pool.map(lambda path: cli("validate", path), paths.values()))
    return {name: (path, proc) for (name, path), proc in zip(paths.items(), procs, strict=True)}


@pytest.mark.parametrize("name", list(CASES))
def test_cli_validate_error(validated: dict, name: str) -> None:
    path, proc = validated[name]
    file, line = expected_location(path, name)
    location = f"{file}:{line}:" if line else f"{file}:"
    field_path = CASES[name].field
    assert_cli_error(proc, location, *([field_path] if field_path else []))


@pytest.mark.parametrize("name", RUN_CASES)
def test_cli_run_error_writes_nothing(tmp_path: Path, name: str) -> None:
    path, case = make_case(tmp_path, name)
    file, line = expected_location(path, name)
    location = f"{file}:{line}:" if line else f"{file}:"
    fields = (case.field,) if case.field else ()
    assert_run_fails_cleanly(tmp_path, path, must_contain=(location, *fields))


def test_python_tag_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    text = set_top(BASE, "seed", f"!!python/object/apply:os.system ['touch {marker}']")
    path = write(tmp_path, "evil.yaml", text)
    with pytest.raises(ScenarioError, match="is not allowed"):
        load_scenario(path)
    assert_cli_error(cli("validate", path), f"{path}:", "seed")
    assert not marker.exists()


def test_recursive_alias_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "loop.yaml", edit(BASE, "sources:\n", "loop: &a [1, *a]\nsources:\n"))
    with pytest.raises(ScenarioError, match="alias") as info:
        load_scenario(path)
    assert info.value.file == str(path)
    assert info.value.field is not None and info.value.field.startswith("loop")


def test_alias_bomb_is_an_error(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    with pytest.raises(ScenarioError, match="expands to more than"):
        load_scenario(path)


def test_extends_through_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    write(outside, "parent.yaml", BASE)
    folder = tmp_path / "scenarios"
    folder.mkdir()
    try:
        (folder / "parent.yaml").symlink_to(outside / "parent.yaml")
    except OSError:
        pytest.skip("symbolic links are not available here")
    child = write(folder, "child.yaml", "extends: parent.yaml\n")
    with pytest.raises(ScenarioError, match="outside this folder") as info:
        load_scenario(child)
    assert (info.value.file, info.value.line, info.value.field) == (str(child), 1, "extends")


# --------------------------------------------------------------------------- missing file


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.file == str(path)
    assert "not found" in str(info.value)
    assert "expected" in str(info.value)
    assert_cli_error(cli("validate", path), str(path), "not found")
    assert_run_fails_cleanly(tmp_path, path, must_contain=(str(path), "not found"))


def test_missing_shipped_name(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such file or shipped scenario"):
        load_scenario("no_such_scenario_name")
    line = assert_cli_error(cli("validate", "no_such_scenario_name"), "no_such_scenario_name")
    assert "bots_vs_click_workers" in line


# --------------------------------------------------------------------------- extends


PARENT = BASE
CHILD = """\
extends: parent.yaml
title: Child of bots versus click workers
campaigns:
  - id: bot_posts
    deadline_hours: 24
  - id: extra_posts
    client: Buyer C
    recruiter: click_farm
    audience_region: united_states
    actions: {post: 50}
"""


def test_extends_merges_child_over_parent(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    child = write(tmp_path, "child.yaml", CHILD)
    parent = load_scenario(tmp_path / "parent.yaml")
    s = load_scenario(child)
    assert s.title == "Child of bots versus click workers"
    assert s.description == parent.description
    assert [c.id for c in s.campaigns] == [c.id for c in parent.campaigns] + ["extra_posts"]
    bot_posts = s.campaigns[0]
    assert bot_posts.deadline_hours == 24  # overridden by the child
    assert bot_posts.client == "Buyer A (bots)"  # the rest of the item is inherited
    assert bot_posts.actions == parent.campaigns[0].actions
    assert s.campaigns[1] == parent.campaigns[1]
    assert s.workers == parent.workers
    assert s.campaigns[-1].actions == {"post": 50}


def test_extends_chain_of_three_files(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    write(tmp_path, "child.yaml", CHILD)
    grandchild = write(tmp_path, "grandchild.yml", "extends: child.yaml\ndays: 1\n")
    s = load_scenario(grandchild)
    assert s.days == 1
    assert s.campaigns[0].deadline_hours == 24
    assert s.title.startswith("Child")


def test_extends_error_in_child_points_at_child(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    text = edit(CHILD, "    deadline_hours: 24\n", "    deadline_hours: 24\n    urgency: 9\n")
    child = write(tmp_path, "child.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    error = info.value
    assert error.file == str(child)
    assert error.line == line_of(text, "urgency: 9")
    assert error.field == "campaigns.bot_posts.urgency"
    assert "expected a number <= 3" in str(error)
    assert_cli_error(
        cli("validate", child), f"{child}:{error.line}:", "campaigns.bot_posts.urgency"
    )


def test_extends_error_in_parent_points_at_parent(tmp_path: Path) -> None:
    parent_text = set_field(PARENT, "bots", "count", "lots")
    parent = write(tmp_path, "parent.yaml", parent_text)
    child = write(tmp_path, "child.yaml", CHILD)
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    error = info.value
    assert error.file == str(parent)
    assert error.line == line_of(parent_text, "count: lots")
    assert error.field == "workers.bots.count"
    assert_cli_error(cli("validate", child), f"{parent}:{error.line}:", "workers.bots.count")


def test_extends_reference_error_in_merged_item_points_at_the_right_file(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    text = edit(CHILD, "    deadline_hours: 24\n", "    recruiter: nobody\n")
    child = write(tmp_path, "child.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    error = info.value
    assert (error.file, error.line) == (str(child), line_of(text, "recruiter: nobody"))
    assert error.field == "campaigns.bot_posts.recruiter"


def test_extends_child_can_fix_a_parent_value(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", set_top(PARENT, "days", "-1"))
    child = write(tmp_path, "child.yaml", "extends: parent.yaml\ndays: 2\n")
    assert load_scenario(child).days == 2


def test_extends_parse_error_in_parent_points_at_parent(tmp_path: Path) -> None:
    parent = write(tmp_path, "parent.yaml", "title: [unclosed\n")
    child = write(tmp_path, "child.yaml", "extends: parent.yaml\n")
    with pytest.raises(ScenarioError, match="malformed YAML") as info:
        load_scenario(child)
    assert info.value.file == str(parent)


# --------------------------------------------------------------------------- --set


def base_file(tmp_path: Path) -> Path:
    return write(tmp_path, BASE_NAME, BASE)


SET_CASES = {
    "campaigns.bot_posts.urgency=9": ("campaigns.bot_posts.urgency", "expected a number <= 3"),
    "nosuchkey=1": ("nosuchkey", "unknown field 'nosuchkey'; expected one of"),
    "days=abc": ("days", "expected a number, got 'abc'"),
    "workers.bots.accounts.trust=2": ("workers.bots.accounts.trust", "expected a number <= 1"),
    "campaigns.nope.urgency=2": ("campaigns.nope", "expected one of: bot_posts, human_posts"),
    "campaigns.bot_posts.colour=red": ("campaigns.bot_posts.colour", "unknown field 'colour'"),
    "campaigns.bot_posts.recruiter=nobody": ("campaigns.bot_posts.recruiter", "does not exist"),
    "title.x=1": ("title", "title is a single value, with no field 'x' inside"),
    "seed=[1": ("seed", "cannot read value"),
    "noequals": (None, "expected dotted.key=value"),
}


@pytest.mark.parametrize("assignment", list(SET_CASES))
def test_set_errors_api(tmp_path: Path, assignment: str) -> None:
    field_path, fragment = SET_CASES[assignment]
    with pytest.raises(ScenarioError) as info:
        load_scenario(base_file(tmp_path), [assignment])
    error = info.value
    assert error.file == f"--set {assignment}"
    assert error.line is None
    assert error.field == field_path
    assert fragment in str(error)
    assert "\n" not in str(error)


@pytest.mark.parametrize("assignment", ["campaigns.bot_posts.urgency=9", "nosuchkey=1"])
def test_set_errors_cli(tmp_path: Path, assignment: str) -> None:
    field_path, fragment = SET_CASES[assignment]
    assert_run_fails_cleanly(
        tmp_path,
        base_file(tmp_path),
        "--set",
        assignment,
        must_contain=(f"--set {assignment}:", field_path, fragment),
    )


def test_set_values_are_applied(tmp_path: Path) -> None:
    s = load_scenario(
        base_file(tmp_path), ["campaigns.bot_posts.urgency=2", "workers.1.count=5", "days=1.5"]
    )
    assert s.campaigns[0].urgency == 2
    assert s.workers[1].count == 5
    assert s.days == 1.5


def test_error_outside_a_set_value_still_points_at_the_file(tmp_path: Path) -> None:
    text = set_field(BASE, "bots", "count", "lots")
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, ["days=1"])
    assert (info.value.file, info.value.line) == (str(path), line_of(text, "count: lots"))


# --------------------------------------------------------------------------- good input


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_shipped_scenario_validates(name: str) -> None:
    path = shipped_scenarios()[name]
    load_scenario(path)
    proc = cli("validate", path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_validate_all_shipped_scenarios_at_once() -> None:
    proc = cli("validate", *shipped_scenarios().values())
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ""


def test_schema_is_json_with_campaigns() -> None:
    proc = cli("schema")
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    assert "campaigns" in schema["properties"]
    assert "extends" in schema["properties"]


# --------------------------------------------------------------------------- fuzzing


def _mutations() -> st.SearchStrategy[str]:
    lines = BASE.splitlines(keepends=True)
    junk = st.sampled_from(
        [
            "",
            " ",
            ":",
            "- ",
            "[",
            "]",
            "{",
            "}",
            "&a ",
            "*a",
            "!!str ",
            "!x ",
            "'",
            '"',
            "\t",
            "-1",
            "1e999",
            ".nan",
            "null",
            "~",
            "?",
            "#",
            "%",
            "@",
            "|",
            ">",
            "\n",
            "  ",
        ]
    )

    @st.composite
    def mutate(draw: st.DrawFn) -> str:
        out = list(lines)
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, len(out) - 1))
            j = draw(st.integers(0, len(out[i])))
            out[i] = out[i][:j] + draw(junk) + out[i][j + draw(st.integers(0, 3)) :]
        return "".join(out)

    return mutate()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_mutations())
def test_random_damage_gives_scenario_error_or_a_scenario(text: str) -> None:
    try:
        load_scenario(text, label="fuzz.yaml")
    except ScenarioError as exc:
        message = str(exc)
        assert message.startswith("fuzz.yaml")
        assert "\n" not in message
