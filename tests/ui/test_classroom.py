"""A live class in real Chromium: a projector and three students in separate contexts.

One ``clickfarm classroom`` server runs for the module; the tests run in file order on
its one session: refusals first (wrong code, a flood of clicks), then the class plays,
predicts and exports, then the ended session refuses its code. Every wait is on a
condition the page shows, never a fixed sleep.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from tests.ui.conftest import CHROMIUM, free_port, stop_server

SCENARIO = "baseline_microtask_market"
SEED = 7
WAIT = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``clickfarm classroom`` on a free port: yields its URLs, code, key and export folder."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    port = free_port()
    exports = tmp_path_factory.mktemp("class-exports")
    log = tmp_path_factory.mktemp("class-server") / "server.log"
    out = open(log, "w+b")  # noqa: SIM115 (kept open for the server's lifetime)
    cmd = [sys.executable, "-m", "sim", "classroom", SCENARIO, "--port", str(port)]
    cmd += ["--seed", str(SEED), "--export-dir", str(exports)]
    process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    found = {}
    try:
        while time.monotonic() < deadline and process.poll() is None:
            text = log.read_text(errors="replace")
            code = re.search(r"Join code: (\w+)", text)
            key = re.search(r"#key=([\w-]+)", text)
            if code and key:
                try:
                    with urllib.request.urlopen(base + "/class/", timeout=2) as response:
                        if response.status == 200:
                            found = {"code": code.group(1), "key": key.group(1)}
                            break
                except OSError:
                    pass
            time.sleep(0.25)
        if not found:
            pytest.fail(f"the classroom server did not start; log:\n{log.read_text()[-3000:]}")
        yield {
            "base": base,
            "join": base + "/class/",
            "lecturer": f"{base}/class/lecturer#key={found['key']}",
            "exports": exports,
            **found,
        }
    finally:
        stop_server(process)
        out.close()


@pytest.fixture(scope="module")
def people(chromium, server):
    """The projector and three students, each in a browser context of their own."""
    pages = {}
    for name, viewport in [
        ("lecturer", {"width": 1400, "height": 1000}),
        ("Ada", {"width": 390, "height": 844}),  # a phone
        ("Bao", {"width": 390, "height": 844}),
        ("Cleo", {"width": 800, "height": 900}),
    ]:
        context = chromium.new_context(viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(WAIT)
        page.outside = []
        page.on(
            "request",
            lambda r, page=page: (
                page.outside.append(r.url) if not r.url.startswith(server["base"]) else None
            ),
        )
        pages[name] = page
    lecturer = pages["lecturer"]
    lecturer.goto(server["lecturer"])
    lecturer.get_by_test_id("join-code").filter(has_text=server["code"]).wait_for()
    yield pages
    for page in pages.values():
        assert page.outside == [], f"the page fetched from outside: {page.outside[:3]}"
        page.context.close()


def join(page, server, nickname: str, code: str | None = None) -> None:
    page.goto(server["join"] + (f"?code={server['code']}" if code is None else ""))
    page.locator("#code").fill(server["code"] if code is None else code)
    page.locator("#nickname").fill(nickname)
    page.get_by_role("button", name="Join").click()


def pick(page, role: str) -> None:
    page.locator(f"button.role[data-role={role}]").click()
    page.get_by_test_id("play").wait_for()


def step(lecturer, hours: int) -> None:
    for _ in range(hours):
        before = int(lecturer.get_by_test_id("hour").inner_text())
        lecturer.get_by_test_id("step").click()
        lecturer.wait_for_function(
            f"Number(document.getElementById('hour').textContent) > {before}", timeout=WAIT
        )


def status_of(url: str, body: bytes | None = None, headers: dict | None = None) -> int:
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_server_refuses_what_the_pages_never_send(server):
    base, api = server["base"], server["base"] + "/class/api/"
    as_json = {"Content-Type": "application/json"}
    assert status_of(base + "/class/", headers={"Host": "attacker.example"}) == 400
    assert status_of(api + "lecturer") == 403
    assert status_of(api + "lecturer", headers={"X-Lecturer-Key": "guess"}) == 403
    assert status_of(api + "control", b'{"do": "end"}', {**as_json, "X-Lecturer-Key": "x"}) == 403
    assert status_of(api + "me") == 401  # no cookie: no player
    forged = {**as_json, "Cookie": "cf_class=forged-token"}
    assert status_of(api + "act", b'{"action": "like", "pay": 1}', forged) == 401
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert status_of(api + "join", b"code=X&nickname=Y", form) == 415
    assert status_of(api + "join", b'{"code": "' + b"x" * 10_000 + b'"}', as_json) == 413
    assert status_of(api + "join", b"[1, 2]", as_json) == 400
    foreign = json.dumps({"code": "ÉÉÉÉÉÉ", "nickname": "x"}).encode()
    assert status_of(api + "join", foreign, as_json) == 404
    key = {"X-Lecturer-Key": "clé".encode().decode("latin-1")}
    assert status_of(api + "lecturer", headers=key) == 403
    assert status_of(base + "/class/static/web.py") == 404
    assert status_of(base + "/class/static/..%2F..%2Fcli.py") == 404
    assert status_of(base + "/class/session.py") == 404
    # and the session is untouched: the projector still answers the lecturer
    key = {"X-Lecturer-Key": server["key"]}
    assert status_of(api + "lecturer", headers=key) == 200


def test_bad_command_lines_are_one_line_errors():
    for args, expected in (
        (["no_such_scenario"], "no_such_scenario"),
        ([SCENARIO, "--pace", "0"], "--pace"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "sim", "classroom", *args], capture_output=True, text=True
        )
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and expected in lines[0]


def test_lecturer_controls_reach_the_session():
    from sim.classroom.hub import Classroom
    from sim.classroom.session import ClassSession
    from sim.classroom.web import Refused, _control

    room = Classroom(ClassSession("purge_arms_race"), join_url="http://127.0.0.1:1/class/")
    with pytest.raises(Refused, match="nothing to export yet"):
        _control(room, "export", {})
    assert room.state() == "paused"  # refused before ending: the class can still run
    assert _control(room, "pace", {"pace": 90})["pace"] == 90 == room.session.pace
    question = _control(room, "pose", {"text": "Share?", "metric": "share_delivered"})
    assert room.open_questions()[0].id == question["question"]["id"]
    _control(room, "reveal", {"question": question["question"]["id"]})
    assert room.open_questions() == []
    _control(room, "step", {"hours": 2})
    _control(room, "trigger", {"event": "purge"})
    assert room.session.read(lambda m: float(m.metrics["accounts_purged"])) == 0
    _control(room, "step", {"hours": 1})  # the scenario's own purge is not due until hour 96
    assert room.session.read(lambda m: float(m.metrics["accounts_purged"])) > 100
    _control(room, "resume", {})
    assert room.state() == "running"
    _control(room, "end", {})
    assert room.state() == "ended"


def test_a_wrong_code_and_a_flood_of_clicks_are_refused(people, server):
    ada = people["Ada"]
    join(ada, server, "Ada", code="WRONG1")
    ada.get_by_test_id("error").filter(has_text="wrong join code").wait_for()
    assert not ada.get_by_test_id("roles").is_visible()
    join(ada, server, "Ada")
    ada.get_by_test_id("roles").wait_for()
    pick(ada, "broker")
    ada.get_by_test_id("set-like").wait_for()
    ada.get_by_test_id("pay-like").fill("0.02")  # the broker's own pay: the run is unchanged
    for _ in range(25):  # far faster than a person: the rate limit answers 429
        ada.get_by_test_id("set-like").click()
    ada.get_by_test_id("error").filter(has_text="too many actions").wait_for()
    # the page still works: the refusal is a message, not a broken page
    assert ada.get_by_test_id("margin").is_visible()


def test_the_class_plays_predicts_and_exports(people, server, tmp_path):
    lecturer, ada, bao, cleo = (people[n] for n in ("lecturer", "Ada", "Bao", "Cleo"))
    join(bao, server, "Bao")
    pick(bao, "worker")
    agent = bao.locator("#agent").inner_text()
    # a dropped connection: the same code and nickname give the student their agent back
    bao.context.clear_cookies()
    join(bao, server, "Bao")
    bao.get_by_test_id("play").wait_for()
    assert bao.locator("#agent").inner_text() == agent
    join(cleo, server, "Cleo")
    pick(cleo, "client")
    # the projector counts who plays what and lists the players
    players = lecturer.get_by_test_id("players")
    for name in ("Ada", "Bao", "Cleo"):
        players.filter(has_text=name).wait_for()
    roles = lecturer.get_by_test_id("role-counts")
    for role in ("broker", "worker", "client"):
        roles.locator("tr", has_text=role).locator("td").nth(1).filter(has_text="1").wait_for()

    # predict, then run
    lecturer.get_by_test_id("pose").click()
    for student, answer in ((ada, "30"), (bao, "55")):
        student.get_by_test_id("question").wait_for()
        student.get_by_test_id("answer").fill(answer)
        student.get_by_role("button", name="Send my answer").click()
        student.get_by_test_id("message").filter(has_text="Answer sent").wait_for()
    lecturer.get_by_test_id("answers-q1").filter(has_text="2 answers").wait_for()

    # the students act: a big order, a pay rise, one task
    step(lecturer, 1)
    cleo.get_by_test_id("order-quantity").fill("2000")
    cleo.get_by_test_id("place-order").click()
    cleo.get_by_test_id("message").filter(has_text="takes effect").wait_for()
    ada.get_by_test_id("pay-like").fill("0.021")
    ada.get_by_test_id("set-like").click()
    ada.get_by_test_id("message").filter(has_text="takes effect").wait_for()
    bao.get_by_test_id("do-task").first.click()
    bao.get_by_test_id("countdown").filter(has_text=re.compile(r"\d+ s")).wait_for()
    assert bao.get_by_test_id("do-task").first.is_disabled()
    step(lecturer, 4)

    # the shared model moved: the projector's figures differ from the same run (same seed,
    # same hours) without the students' actions (the replay below pins them exactly)
    hour = int(lecturer.get_by_test_id("hour").inner_text())
    for metric in ("total_client_spend", "total_delivered"):
        shown = lecturer.get_by_test_id(f"metric-{metric}").inner_text().replace(",", "")
        assert float(shown) != pytest.approx(untouched_metric(metric, hours=hour + 1), abs=0.01)
    # the student client sees their own order delivered
    delivered = cleo.get_by_test_id("orders").locator("tr").nth(1).locator("td").nth(2)
    delivered.filter(has_text=re.compile(r"^[1-9]")).wait_for()
    bao.get_by_test_id("tasks-done").filter(has_text=re.compile(r"^[1-9]")).wait_for()

    # reveal the spread beside the outcome
    lecturer.get_by_test_id("reveal-q1").click()
    spread = lecturer.get_by_test_id("spread-q1")
    spread.filter(has_text="30.0%").wait_for()
    assert "55.0%" in spread.inner_text()
    lecturer.get_by_test_id("outcome-q1").filter(has_text=re.compile(r"Model: \d")).wait_for()

    # end and export; replaying session.yaml gives the same run
    lecturer.get_by_test_id("export").click()
    exported = lecturer.get_by_test_id("exported").filter(has_text="Exported to")
    exported.wait_for(timeout=60_000)
    folder = Path(exported.inner_text().removeprefix("Exported to ").strip())
    assert folder.parent == server["exports"]
    actions = pd.read_csv(folder / "actions.csv")
    assert {"Ada", "Bao", "Cleo"}.isdisjoint(set(actions.astype(str).values.ravel()))
    assert (pd.read_csv(folder / "predictions.csv").shape[0]) == 2
    replay = tmp_path / "replay"
    subprocess.run(
        [sys.executable, "-m", "sim", "run", str(folder / "session.yaml"), "--out", str(replay)]
        + ["--quiet"],
        check=True,
        capture_output=True,
    )
    live = pd.read_csv(folder / "run" / "timeseries.csv")
    again = pd.read_csv(replay / "timeseries.csv")
    pd.testing.assert_frame_equal(live, again)
    summary = json.loads((folder / "run" / "summary.json").read_text())
    assert summary["headline"] == json.loads((replay / "summary.json").read_text())["headline"]


def test_an_ended_session_refuses_its_code_and_its_players(people, server):
    lecturer, bao = people["lecturer"], people["Bao"]
    lecturer.get_by_test_id("join-code").filter(has_text="session ended").wait_for()
    bao.get_by_test_id("error").filter(has_text="ended").wait_for()
    assert bao.get_by_test_id("do-task").first.is_disabled()
    # a newcomer with the code is turned away, by the page and by the server
    newcomer = people["Ada"].context.browser.new_context()
    page = newcomer.new_page()
    page.goto(f"{server['join']}?code={server['code']}")
    page.get_by_test_id("error").filter(has_text="has ended").wait_for()
    assert not page.locator("#join").is_visible()
    refused = page.request.post(
        server["base"] + "/class/api/join", data={"code": server["code"], "nickname": "Dana"}
    )
    assert refused.status == 410
    assert "ended" in refused.json()["error"]
    newcomer.close()


def untouched_metric(name: str, hours: int) -> float:
    """The metric after ``hours`` of the same scenario and seed with no students."""
    from sim.classroom.session import ClassSession

    session = ClassSession(SCENARIO, seed=SEED)
    session.step(hours)
    return session.read(lambda model: float(model.metrics[name]))


def test_presenter_mode_starts_a_class_on_the_app_server(page, ui_url, chromium):
    page.get_by_role("button", name="Present").click()
    page.get_by_test_id("slide-number").filter(has_text="1 /").wait_for()
    page.get_by_role("button", name="Next →").click()
    page.get_by_test_id("slide-title").filter(has_text="micro-task market").wait_for()
    page.get_by_role("button", name="Start a class session").click()
    code = page.get_by_test_id("class-code")
    code.wait_for()
    page.get_by_test_id("class-qr").locator("svg").wait_for()
    projector_url = page.get_by_test_id("class-projector").get_attribute("href")
    assert projector_url.startswith(ui_url + "class/lecturer#key=")
    student = chromium.new_context(viewport={"width": 390, "height": 844}).new_page()
    student.goto(f"{ui_url}class/?code={code.inner_text()}")
    student.locator("#nickname").fill("Eve")
    student.get_by_role("button", name="Join").click()
    student.get_by_test_id("roles").wait_for()
    projector = chromium.new_context().new_page()
    projector.goto(projector_url)
    projector.get_by_test_id("join-code").filter(has_text=code.inner_text()).wait_for()
    projector.get_by_test_id("players").filter(has_text="Eve").wait_for()
    student.context.close()
    projector.context.close()
