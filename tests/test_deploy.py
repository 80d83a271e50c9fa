"""The supervised recipe (deploy/run_cluster.sh): two app processes and nginx under supervisord, one killed at a time.

While clients poll the service through nginx (a browser pinned to one
process by its cookie, new visitors, and one student's websocket session
rerunning a page), each app process in turn gets ``kill -9``: every request
through nginx must answer within 2 s, supervisord must have the process
back (a new pid answering its health check) within 15 s, and the student's
session must reconnect and run its page again. Skipped, with the reason,
where nginx or supervisord is missing (.ci/run installs both).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import http.cookiejar
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from browser_support import run_async
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from load_test import Session  # noqa: E402 - the protocol client the load bench uses

ANSWER_WITHIN = 2.0
BACK_WITHIN = 15.0
BIN = Path(sys.executable).parent


def free_port(ports: int = 1) -> int:
    """A port p with p .. p + ports - 1 free on loopback."""
    for _ in range(200):
        base = random.randint(20_000, 40_000)
        try:
            for p in range(base, base + ports):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
    raise RuntimeError("no free port")


def answer(opener, url: str) -> str:
    """'200' when the URL answered 200 within ANSWER_WITHIN seconds; else what went wrong (a status or an error)."""
    try:
        with opener.open(url, timeout=ANSWER_WITHIN) as response:
            response.read()
            return str(response.status)
    except urllib.error.HTTPError as error:
        return str(error.code)
    except OSError as error:
        return type(error).__name__


def answers(opener, url: str) -> bool:
    return answer(opener, url) == "200"


class Poller(threading.Thread):
    """GETs the health check and the page through nginx every 0.5 s; keeps every failure (time, URL, what came back).

    Every client of this test shares one address (127.0.0.1), so together they stay well inside nginx's
    per-address request rate (20 a second after a burst of 200): at 0.2 s two pollers alone made about
    20 a second, the burst drained over the minutes of the test and nginx answered 429, as it should.
    """

    def __init__(self, base: str, pinned: bool):
        super().__init__(daemon=True)
        self.base, self.pinned = base, pinned
        self.jar = http.cookiejar.CookieJar()
        self.stop = threading.Event()
        self.failures: list[tuple[float, str, str]] = []
        self.requests = 0

    def run(self):
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar if self.pinned else None))
        while not self.stop.is_set():
            for path in ("/_stcore/health", "/"):
                self.requests += 1
                got = answer(opener if self.pinned else urllib.request.build_opener(), self.base + path)
                if got != "200":
                    self.failures.append((time.monotonic(), path, got))
            time.sleep(0.5)


class Student(threading.Thread):
    """One websocket session through nginx that reruns the Momentum page in a loop and reconnects when dropped."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.url = base.replace("http://", "ws://")
        self.stop = threading.Event()
        self.runs: list[float] = []  # when each page run finished
        self.drops = 0

    async def loop(self):
        session = Session(self.url, "momentum", "m_steps", "int", [120, 180])
        import websockets

        while not self.stop.is_set():
            try:
                async with websockets.connect(f"{self.url}/_stcore/stream", subprotocols=["streamlit"],
                                              max_size=None, open_timeout=10) as ws:
                    while not self.stop.is_set():
                        await asyncio.wait_for(session.run_once(ws), 60)
                        self.runs.append(time.monotonic())
                        await asyncio.sleep(0.5)
            except (TimeoutError, OSError, websockets.WebSocketException):
                self.drops += 1
                await asyncio.sleep(0.5)

    def run(self):
        asyncio.run(self.loop())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """deploy/run_cluster.sh 2 PORT, started and ready: (base URL, supervisorctl command, the app ports)."""
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run does)")
    if not (BIN / "supervisord").exists():
        pytest.skip("supervisord is not installed in this Python's environment (pip install supervisor)")
    run_dir = tmp_path_factory.mktemp("cluster")
    port, base = free_port(), free_port(2)
    env = dict(os.environ, PYTHON=sys.executable, APP_BASE_PORT=str(base), LAB_RUN_DIR=str(run_dir))
    log = open(run_dir / "run_cluster.out", "w")
    recipe = subprocess.Popen(["bash", str(ROOT / "deploy" / "run_cluster.sh"), "2", str(port)], cwd=ROOT,
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while "ready:" not in (run_dir / "run_cluster.out").read_text():
            assert recipe.poll() is None, (run_dir / "run_cluster.out").read_text()[-3000:]
            assert time.monotonic() < deadline, "the cluster did not start in 300 s"
            time.sleep(0.5)
        control = [str(BIN / "supervisorctl"), "-c", str(run_dir / "supervisord.conf")]
        yield f"http://127.0.0.1:{port}", control, [base, base + 1]
    finally:
        recipe.send_signal(signal.SIGTERM)  # the recipe stops supervisord, which stops the apps and nginx
        try:
            recipe.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(recipe.pid, signal.SIGKILL)
        pid_file = run_dir / "supervisord.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        log.close()


def pid_of(control: list[str], program: str) -> int:
    done = subprocess.run([*control, "pid", program], capture_output=True, text=True, timeout=10)
    return int(done.stdout.strip()) if done.stdout.strip().isdigit() else 0


def test_a_killed_process_is_restarted_while_the_service_keeps_answering(cluster):
    base, control, ports = cluster
    pollers = [Poller(base, pinned=True), Poller(base, pinned=False)]
    student = Student(base)
    for worker in (*pollers, student):
        worker.start()
    try:
        deadline = time.monotonic() + 180
        while not student.runs:  # the first page run compiles: wait for it before killing anything
            assert time.monotonic() < deadline, "the student's page never finished"
            time.sleep(0.5)
        for i, port in enumerate(ports):
            others = {j: pid_of(control, f"app{j}") for j in range(len(ports)) if j != i}
            old = pid_of(control, f"app{i}")
            assert old > 0
            os.kill(old, signal.SIGKILL)
            killed = time.monotonic()
            while True:
                new = pid_of(control, f"app{i}")
                if new not in (0, old) and answers(urllib.request.build_opener(),
                                                   f"http://127.0.0.1:{port}/_stcore/health"):
                    break
                assert time.monotonic() - killed < BACK_WITHIN, f"app{i} not back {BACK_WITHIN} s after kill -9"
                time.sleep(0.2)
            assert {j: pid_of(control, f"app{j}") for j in others} == others, "another process was restarted too"
            # The student's session runs its page again after the kill (reconnected if it was on that process).
            while not student.runs or student.runs[-1] < killed:
                assert time.monotonic() - killed < 60, "the student's session did not run its page again"
                time.sleep(0.2)
            time.sleep(2)
    finally:
        for worker in (*pollers, student):
            worker.stop.set()
        for worker in (*pollers, student):
            worker.join(70)
    assert all(p.requests > 20 for p in pollers), [p.requests for p in pollers]
    failures = [f for p in pollers for f in p.failures]
    assert not failures, f"requests through nginx that did not answer 200 within {ANSWER_WITHIN} s: {failures[:20]}"


def test_operator_endpoints_are_not_served_through_the_proxy(cluster):
    base, _, ports = cluster
    opener = urllib.request.build_opener()
    for path in ("/_stcore/metrics", "/_stcore/script-health-check", "/_stcore/agent/openapi.json"):
        try:
            status = opener.open(base + path, timeout=10).status
        except urllib.error.HTTPError as error:
            status = error.code
        assert status == 404, path
    assert answers(opener, f"http://127.0.0.1:{ports[0]}/_stcore/metrics")  # still there on the loopback port
    assert answers(opener, base + "/_stcore/health")  # the browser's own health check passes


def test_the_proxy_limits_one_client_address(cluster):
    base, _, _ = cluster
    opener = urllib.request.build_opener()

    def status(path: str) -> int:
        try:
            return opener.open(base + path, timeout=10).status
        except urllib.error.HTTPError as error:
            return error.code

    # Requests: a burst of 200 at once, then 20 a second; 400 from 16 threads at once are more than that.
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: status("/_stcore/health"), range(400)))
    assert statuses.count(429) >= 20 and statuses.count(200) >= 200, (statuses.count(200), statuses.count(429))
    time.sleep(11)  # the burst refills at 20 a second

    # Open connections: 64 websockets per address; more are refused in the handshake.
    import websockets

    async def open_many(n: int) -> tuple[int, int]:
        url = base.replace("http://", "ws://") + "/_stcore/stream"
        async with asyncio.timeout(120):
            opened, refused, held = 0, 0, []
            for _ in range(n):
                try:
                    held.append(await websockets.connect(url, subprotocols=["streamlit"], open_timeout=20))
                    opened += 1
                except websockets.InvalidStatus as error:
                    assert error.response.status_code in (429, 503), error.response.status_code
                    refused += 1
                await asyncio.sleep(0.06)  # within the request rate
            for ws in held:
                await ws.close()
            return opened, refused

    opened, refused = run_async(open_many(70))
    assert opened == 64 and refused == 6, (opened, refused)
