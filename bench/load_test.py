"""A classroom under load: N concurrent sessions, each moving a slider over and over, against one server.

Each session speaks Streamlit's own websocket protocol (the protobuf messages
the browser sends): it opens a page, then for DURATION seconds changes one
of that page's widgets to a new value, waits until the server has sent the
new page (``script_finished``), thinks for a moment and does it again. The
sessions are spread over four pages (Critical points, Momentum, Playground,
Adaptive learning rate). A widget inside an ``st.fragment`` is changed the
way a browser changes it: the rerun names the fragment, and only that part
of the page runs again. Reported: p50 / p95 / max time from a change to the
finished new page, errors (exceptions on a page, failed runs, lost
connections), the server's resident memory before and after, its CPU time
during the run (cores used, CPU per change) beside how busy the whole machine
was, and whether it still answers a fresh session afterwards.

With ``--fresh`` every change sets a value that no session used before (a
page's value count goes up from its smallest value: steps 100, 101, 102, ...;
radius 0.2, 0.201, ...), as a real class does: no change is served from a
cache another session filled. Without it the sessions cycle through six values.

Run: python bench/load_test.py [--sessions 40] [--duration 60] [--think 1.5] [--fresh]
     [--url ws://host:port]   (default: starts its own server on loopback)
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# page -> (widget key, kind of value, values to cycle through)
SCENARIOS = [
    ("critical_points", "radius", "double_array", [0.2, 0.3, 0.5, 0.7, 1.0, 1.3]),
    ("momentum", "m_steps", "int", [120, 180, 240, 300, 360, 420]),
    ("playground", "steps", "int", [100, 150, 200, 250, 300, 350]),
    ("adaptive_learning_rate", "a_steps", "int", [100, 200, 300, 400, 500, 600]),
]


class FreshValues:
    """Values no session has used: one shared counter per scenario, counting up from its smallest value."""

    def __init__(self):
        self.counters: dict[str, itertools.count] = {}

    def next(self, key: str, kind: str, values: list):
        k = next(self.counters.setdefault(key, itertools.count(1)))
        return min(values) + k if kind == "int" else round(min(values) + 0.001 * k, 6)


class Session:
    def __init__(self, url: str, page: str, key: str, kind: str, values: list, fresh: FreshValues | None = None):
        self.url, self.page, self.key, self.kind, self.values = url, page, key, kind, values
        self.fresh = fresh
        self.widget_id = None
        self.widget_ids: dict[str, str] = {}  # widget key -> element id, as the page last sent them
        self.fragment_id = ""  # the widget's fragment: a change reruns only that part of the page, as in a browser
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def rerun_message(self, value=None) -> BackMsg:
        """The browser's rerun request: this page, with the session's widget set to ``value`` (None: just open it)."""
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_name = self.page
        if value is not None and self.widget_id:
            msg.rerun_script.fragment_id = self.fragment_id
            state = msg.rerun_script.widget_states.widgets.add()
            state.id = self.widget_id
            if self.kind == "int":
                state.int_value = int(value)
            else:
                state.double_array_value.data.append(float(value))
        return msg

    async def run_once(self, ws, value=None) -> float:
        """Send a rerun (``rerun_message``) and wait for the finished page; returns the seconds it took."""
        msg = self.rerun_message(value)
        t0 = time.perf_counter()
        await ws.send(msg.SerializeToString())
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await ws.recv())
            kind = fm.WhichOneof("type")
            if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                element = fm.delta.new_element
                etype = element.WhichOneof("type")
                if etype == "exception":
                    self.errors.append(f"{self.page}: {element.exception.message[:120]}")
                widget = getattr(element, etype)
                wid = getattr(widget, "id", "")
                if wid:
                    self.widget_ids[wid.rsplit("-", 1)[-1]] = wid  # every widget of the page, by its key
                if wid and wid.endswith(f"-{self.key}"):
                    self.widget_id = wid
                    self.fragment_id = fm.delta.fragment_id
            elif kind == "script_finished":
                if fm.script_finished not in (0, 3):  # FINISHED_SUCCESSFULLY, FINISHED_EARLY_FOR_RERUN
                    self.errors.append(f"{self.page}: script_finished status {fm.script_finished}")
                return time.perf_counter() - t0

    async def run(self, duration: float, think: float, rng: random.Random):
        try:
            async with websockets.connect(f"{self.url}/_stcore/stream", subprotocols=["streamlit"],
                                          max_size=None, open_timeout=60) as ws:
                await self.run_once(ws)
                if not self.widget_id:
                    self.errors.append(f"{self.page}: widget {self.key} not found")
                    return
                end = time.monotonic() + duration
                i = 0
                while time.monotonic() < end:
                    await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
                    i += 1
                    value = (self.fresh.next(self.key, self.kind, self.values) if self.fresh
                             else self.values[i % len(self.values)])
                    self.latencies.append(await self.run_once(ws, value))
        except (TimeoutError, OSError, websockets.WebSocketException) as err:
            self.errors.append(f"{self.page}: connection: {err!r}"[:160])


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used (user + system, all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks (from /proc/stat)."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:8]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # idle and iowait are not busy


def start_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", os.path.join(ROOT, "app.py"),
                             "--server.headless", "true", "--server.port", str(port), "--server.address",
                             "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status == 200:
                return proc, f"ws://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


@contextlib.contextmanager
def app_under_load(url: str | None, pids: list[int]):
    """(websocket URL, server pids) of the app a bench loads: ``url`` and ``pids`` of a running one, or a server
    started here (``start_server``) and stopped when the bench is done."""
    if url:
        yield url, list(pids)
        return
    proc, url = start_server()
    try:
        yield url, [proc.pid]
    finally:
        proc.terminate()
        proc.wait(10)


async def load(url: str, sessions: int, duration: float, think: float, seed: int = 0,
               fresh: FreshValues | None = None) -> list[Session]:
    rng = random.Random(seed)
    crowd = [Session(url, *SCENARIOS[i % len(SCENARIOS)], fresh=fresh) for i in range(sessions)]
    await asyncio.gather(*(s.run(duration, think, random.Random(rng.random())) for s in crowd))
    return crowd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=40)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--think", type=float, default=1.5, help="mean seconds between a session's changes")
    ap.add_argument("--url", default=None, help="ws://host:port of a running app (default: start one)")
    ap.add_argument("--fresh", action="store_true", help="every change a value no session used before")
    ap.add_argument("--pid", type=int, action="append", default=[],
                    help="a server process's pid, for memory figures with --url (repeat for several; summed)")
    args = ap.parse_args()
    with app_under_load(args.url, args.pid) as (url, pids):
        memory = lambda: sum(rss_mb(p) for p in pids) if pids else float("nan")  # noqa: E731
        cpu = lambda: sum(cpu_seconds(p) for p in pids) if pids else float("nan")  # noqa: E731
        # warm-up: one session per page compiles what the crowd will use
        warm = asyncio.run(load(url, len(SCENARIOS), 0.1, 0.1))
        before, cpu0, busy0 = memory(), cpu(), machine_busy()
        t0 = time.perf_counter()
        crowd = asyncio.run(load(url, args.sessions, args.duration, args.think,
                                 fresh=FreshValues() if args.fresh else None))
        wall = time.perf_counter() - t0
        after, cpu1, busy1 = memory(), cpu(), machine_busy()
        check = asyncio.run(load(url, 1, 0.1, 0.1))[0]
        lat = sorted(x for s in crowd for x in s.latencies)
        errors = [e for s in warm + crowd for e in s.errors]
        q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")  # noqa: E731
        print(f"{args.sessions} sessions × {args.duration:.0f} s (think {args.think} s, "
              f"{'every value fresh' if args.fresh else 'six values cycled'}) against {url}: "
              f"{len(lat)} changes in {wall:.0f} s ({len(lat) / wall:.1f}/s)")
        print(f"change → new page: p50 {q(0.5):.2f} s, p95 {q(0.95):.2f} s, max {lat[-1] if lat else float('nan'):.2f} s"
              f" (mean {statistics.mean(lat) if lat else float('nan'):.2f} s)")
        for page, key, *_ in SCENARIOS:
            own = sorted(x for s in crowd if s.page == page for x in s.latencies)
            part = "fragment rerun" if any(s.fragment_id for s in crowd if s.page == page) else "whole page"
            if own:
                print(f"    {page:24s} {key:10s} ({part}): {len(own)} changes, p50 {statistics.median(own):.2f} s, "
                      f"p95 {own[min(len(own) - 1, int(0.95 * len(own)))]:.2f} s")
        print(f"errors: {len(errors)}" + (f" — first: {errors[:3]}" if errors else ""))
        print(f"server memory (RSS): {before:.0f} MB before, {after:.0f} MB after")
        # One process runs Python one thread at a time: near 1.0 core here, on a machine with cores to spare, is
        # the interpreter lock's ceiling, not the machine's.
        print(f"server CPU: {(cpu1 - cpu0) / wall:.2f} of a core ({1000 * (cpu1 - cpu0) / max(len(lat), 1):.0f} ms per "
              f"change served); the whole machine {100 * (busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1):.0f} % busy "
              f"on {os.cpu_count()} cores, this load generator included")
        print(f"afterwards a fresh session {'works' if not check.errors else 'FAILS: ' + str(check.errors)}")


if __name__ == "__main__":
    main()
