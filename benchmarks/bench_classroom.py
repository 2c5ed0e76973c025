"""A class of simulated students on loopback, and how far the projector lags behind.

Starts ``clickfarm classroom`` in its own process, then N students (default 60), one
thread each with its own HTTP connection (stdlib only), do what the student page does:
join with the code and a nickname, pick a role (the scenario's few brokers, moderators
and clients first, everyone else a micro-worker), poll their own screen every 2 s, act
at a human rate (a click every 3-8 s, drawn from a seeded generator) and answer the
lecturer's question once. Meanwhile the lecturer's projector long-polls its state, as
the projector page does, while the model runs at ``--pace`` simulated hours a minute.

The figure the issue sets a goal for is the projector's **update lag**: for every
simulated hour, the time from the end of that hour's step (stamped by the server) to the
projector holding a state that shows it; goal: under 1 s. Also reported: the students'
request times, refusals (429 is the rate limit or a worker still busy with a task,
expected at human rates only for the busy case), and the machine's load average.

    python benchmarks/bench_classroom.py                   # 60 students, 60 s
    python benchmarks/bench_classroom.py --students 120 --seconds 90 --json out.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLL_SECONDS = 2.0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One browser: a keep-alive connection and the cookie the server set."""

    def __init__(self, port: int, key: str | None = None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""
        self.key = key
        self.times: list[float] = []
        self.reconnects = 0

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if self.key:
            headers["X-Lecturer-Key"] = self.key
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            self.conn.request(method, "/class/api/" + path, body=data, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # the server closed an idle keep-alive connection: reconnect, as a browser does
            self.reconnects += 1
            self.conn.close()
            self.conn.request(method, "/class/api/" + path, body=data, headers=headers)
            response = self.conn.getresponse()
        raw = response.read()
        self.times.append(time.perf_counter() - started)
        cookie = response.getheader("set-cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, json.loads(raw or b"{}")


def student(port, code, nickname, role, rng, stop, stats, lock):
    client = Client(port)
    status, _ = client.call("POST", "join", {"code": code, "nickname": nickname})
    if status != 200:
        raise RuntimeError(f"{nickname} could not join: {status}")
    status, data = client.call("POST", "role", {"role": role})
    if status != 200:
        role = "worker"
        client.call("POST", "role", {"role": role})
    answered = False
    next_act = time.monotonic() + rng.uniform(1, 5)
    counts = {"acted": 0, "refused_busy": 0, "refused_limit": 0, "refused_other": 0}
    while not stop.is_set():
        status, me = client.call("GET", "me")
        if status == 410:
            break
        view = me.get("view")
        if me.get("question") and not answered:
            client.call("POST", "answer", {"question": me["question"]["id"], "value": rng.random()})
            answered = True
        # like the page, a worker does not click while its last task is still running
        if view and time.monotonic() >= next_act and not me.get("busy_seconds"):
            body = action(role, view, rng)
            if body is not None:
                status, reply = client.call("POST", "act", body)
                if status == 200:
                    counts["acted"] += 1
                elif status == 429 and "busy" in reply.get("error", ""):
                    counts["refused_busy"] += 1
                elif status == 429:
                    counts["refused_limit"] += 1
                else:
                    counts["refused_other"] += 1
                    reason = reply.get("error", "")[:50]
                    counts[f"why: {reason}"] = counts.get(f"why: {reason}", 0) + 1
            next_act = time.monotonic() + rng.uniform(3, 8)
        stop.wait(POLL_SECONDS)
    with lock:
        stats["times"].extend(client.times)
        stats["reconnects"] = stats.get("reconnects", 0) + client.reconnects
        for k, v in counts.items():
            stats[k] = stats.get(k, 0) + v


def action(role: str, view: dict, rng: random.Random) -> dict | None:
    """What a student of ``role`` clicks next, from what their screen shows."""
    if role == "worker":
        if not view["tasks"]:
            return None
        task = rng.choice(view["tasks"])
        return {"campaign": task["campaign"], "action": task["action"], "tasks": 1}
    if role == "broker":
        rate = rng.choice(view["rates"]) if view["rates"] else None
        if rate is None:
            return None
        return {"action": rate["action"], "pay": round(rate["pay"] * rng.uniform(0.9, 1.1), 4)}
    if role == "moderator":
        if not view["queue"]:
            return None
        return {"item": view["queue"][0]["item"], "verdict": rng.choice(["fake", "genuine"])}
    prices = list(view["prices"])
    return {"action": rng.choice(prices), "quantity": rng.randint(20, 200)} if prices else None


def projector(port, key, stop, lags, renders):
    client = Client(port, key)
    version, hour = -1, None
    while not stop.is_set():
        status, state = client.call("GET", f"lecturer?after={version}")
        received = time.time()
        if status != 200:
            break
        version = state["version"]
        renders.append(received)
        if state["view"]["hour"] != hour:
            if hour is not None and state["stepped_at"]:
                lags.append(received - state["stepped_at"])
            hour = state["view"]["hour"]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--pace", type=float, default=60.0, help="simulated hours a minute")
    parser.add_argument("--scenario", default="baseline_microtask_market")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    load_start = os.getloadavg()
    port = free_port()
    exports = tempfile.mkdtemp(prefix="bench-class-")
    cmd = [sys.executable, "-m", "sim", "classroom", args.scenario, "--port", str(port)]
    cmd += ["--seed", str(args.seed), "--pace", str(args.pace), "--export-dir", exports]
    log = Path(exports) / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        code = key = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (code and key):
            text = log.read_text(errors="replace")
            code = (m := re.search(r"Join code: (\w+)", text)) and m.group(1)
            key = (m := re.search(r"#key=([\w-]+)", text)) and m.group(1)
            time.sleep(0.2)
        if not (code and key):
            sys.exit(f"the server did not start:\n{log.read_text()[-2000:]}")
        for _ in range(200):  # until it answers
            try:
                Client(port, key).call("GET", "lecturer")
                break
            except OSError:
                time.sleep(0.2)
        lecturer = Client(port, key)
        free = lecturer.call("GET", "lecturer")[1]["view"]["free_agents"]
        roles = [r for r in ("broker", "moderator", "client") for _ in range(free[r])]
        roles = (roles + ["worker"] * args.students)[: args.students]
        stop, lock = threading.Event(), threading.Lock()
        stats: dict = {"times": []}
        lags: list[float] = []
        renders: list[float] = []
        master = random.Random(args.seed)
        threads = [threading.Thread(target=projector, args=(port, key, stop, lags, renders))]
        for n, role in enumerate(roles):
            rng = random.Random(master.getrandbits(64))
            threads.append(
                threading.Thread(
                    target=student,
                    args=(port, code, f"student{n}", role, rng, stop, stats, lock),
                )
            )
        for t in threads:
            t.start()
        lecturer.call("POST", "control", {"do": "pose", "text": "Workers' share?", "kind": "share"})
        lecturer.call("POST", "control", {"do": "resume"})
        cpu0, server0, started = os.times(), cpu_seconds(server.pid), time.monotonic()
        time.sleep(args.seconds)
        lecturer.call("POST", "control", {"do": "pause"})
        final = lecturer.call("GET", "lecturer")[1]
        stop.set()
        for t in threads:
            t.join(timeout=30)
        wall = time.monotonic() - started
        cpu1, server1 = os.times(), cpu_seconds(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)
    times = stats["times"]
    result = {
        "students": args.students,
        "seconds": round(wall, 1),
        "pace": args.pace,
        "hours_run": final["view"]["hour"] + 1,
        "players": len(final["view"]["players"]),
        "role_counts": final["view"]["role_counts"],
        "lag_median_s": round(statistics.median(lags), 3) if lags else None,
        "lag_p90_s": round(quantile(lags, 0.9), 3),
        "lag_max_s": round(max(lags), 3) if lags else None,
        "hours_measured": len(lags),
        "projector_updates_per_s": round(len(renders) / wall, 1),
        "student_requests": len(times),
        "student_request_median_ms": round(1000 * statistics.median(times), 1),
        "student_request_p90_ms": round(1000 * quantile(times, 0.9), 1),
        "reconnects": stats.get("reconnects", 0),
        "actions_accepted": stats.get("acted", 0),
        "refused_busy_worker": stats.get("refused_busy", 0),
        "refused_rate_limit": stats.get("refused_limit", 0),
        "refused_other": stats.get("refused_other", 0),
        "refusal_reasons": {k[5:]: v for k, v in stats.items() if k.startswith("why: ")},
        "answers": final["spreads"][0]["count"] if final["spreads"] else 0,
        "load_average_1min_start_end": [round(load_start[0], 2), round(os.getloadavg()[0], 2)],
        "server_cpu_share_of_one_core": round((server1 - server0) / wall, 2),
        "client_cpu_s": round(cpu1.user + cpu1.system - cpu0.user - cpu0.system, 1),
        "python": sys.version.split()[0],
    }
    for k, v in result.items():
        print(f"{k:>30}: {v}")
    goal = result["lag_max_s"] is not None and result["lag_p90_s"] < 1.0
    print(f"{'goal (p90 lag < 1 s)':>30}: {'met' if goal else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
