"""One client floods reruns while a student changes a value once a second: does the class keep being served?

Prints the reruns the flooder sent and the page runs they started, the student's change latencies (p50, p95,
max) during the flood, the health check's (p95, max) and how long a new session takes afterwards. The
figures for issue 25's target (other sessions' p95 ≤ 2 s, the health check within 1 s throughout). Against a
server of its own (``app.py``), or ``--url ws://host:port``::

    .venv/bin/python bench/bench_flood.py [--seconds 10] [--url ws://127.0.0.1:8501]

``tests/test_session_limits.py`` runs the same flood and student, with bounds.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import statistics
import threading
import time
import urllib.request

import websockets
from load_test import Session, start_server
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


class HealthPoller(threading.Thread):
    """Asks the server's health check every 0.2 s until ``stop`` is set; ``latencies`` (inf: no answer in time)."""

    def __init__(self, base: str, timeout: float = 3.0):
        super().__init__(daemon=True)
        self.url, self.timeout = base + "/_stcore/health", timeout
        self.stop = threading.Event()
        self.latencies: list[float] = []

    def run(self):
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                urllib.request.urlopen(self.url, timeout=self.timeout).read()
                took = time.perf_counter() - t0
            except OSError:
                took = float("inf")
            self.latencies.append(took)
            time.sleep(0.2)


async def flood(ws_url: str, seconds: float) -> tuple[int, int]:
    """Send rerun_script for Momentum as fast as the socket takes them; returns (reruns sent, page runs started).

    The server reads a socket at a bounded rate, so the flooder's answers to its keep-alive pings queue behind
    its own messages, and the server may close the connection: then the flood is over (one connection floods;
    reconnecting is a new session, which the proxy's per-address limits bound).
    """
    counts = [0, 0]
    with contextlib.suppress(websockets.ConnectionClosed, ConnectionError):
        return await _flood(ws_url, seconds, counts)
    return counts[0], counts[1]


async def _flood(ws_url: str, seconds: float, counts: list[int]) -> tuple[int, int]:
    """``flood``'s connection; ``counts`` is kept current ([sent, started]) for when the server closes it."""
    sent = started = 0
    async with websockets.connect(f"{ws_url}/_stcore/stream", subprotocols=["streamlit"], max_size=None,
                                  open_timeout=60) as ws:
        async def read():
            nonlocal started
            async for data in ws:
                fm = ForwardMsg()
                fm.ParseFromString(data)
                if fm.WhichOneof("type") == "new_session":
                    started += 1
                    counts[1] = started

        reader = asyncio.create_task(read())
        msg = BackMsg()
        msg.rerun_script.page_name = "momentum"
        payload = msg.SerializeToString()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await ws.send(payload)
            sent += 1
            counts[0] = sent
            if sent % 50 == 0:
                await asyncio.sleep(0)  # let the reader run: the flooder reads, so the server never drops it
        reader.cancel()
    return sent, started




async def student(ws_url: str, seconds: float) -> list[float]:
    """Open Momentum, then change its step count once a second for ``seconds``: each change's latency."""
    session = Session(ws_url, "momentum", "m_steps", "int", [120, 180, 240])
    latencies = []
    async with websockets.connect(f"{ws_url}/_stcore/stream", subprotocols=["streamlit"], max_size=None,
                                  open_timeout=60) as ws:
        await session.run_once(ws)
        assert session.widget_id, "the step-count widget was not found"
        end = time.monotonic() + seconds
        i = 0
        while time.monotonic() < end:
            i += 1
            latencies.append(await asyncio.wait_for(session.run_once(ws, [120, 180, 240][i % 3]), 120))
            await asyncio.sleep(1.0)
    if session.errors:
        raise RuntimeError(f"the student's page failed: {session.errors}")
    return latencies

def flood_beside_student(url: str, seconds: float) -> tuple[tuple[int, int], list[float]]:
    """``flood`` and ``student`` at once, each on an event loop and a thread of its own: one loop sending as fast as
    it can would starve the other client's replies to the server's pings (a client artefact, not the server's)."""
    with concurrent.futures.ThreadPoolExecutor(2) as threads:
        flooding = threads.submit(asyncio.run, flood(url, seconds))
        studying = threads.submit(asyncio.run, student(url, seconds + 2))
        return flooding.result(), studying.result()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the flood lasts")
    parser.add_argument("--url", help="ws://host:port of a running server (default: start one)")
    args = parser.parse_args()
    proc, url = (None, args.url) if args.url else start_server()
    try:
        asyncio.run(student(url, 0))  # the page compiled once, before anything is timed
        health = HealthPoller(url.replace("ws://", "http://"))
        health.start()

        try:
            (sent, started), latencies = flood_beside_student(url, args.seconds)
        finally:
            health.stop.set()
            health.join(10)
        t0 = time.monotonic()
        asyncio.run(student(url, 0))
        after = time.monotonic() - t0
    finally:
        if proc is not None:
            proc.terminate()
    print(f"flood of {args.seconds:g} s: {sent} reruns sent, {started} page runs started")
    print(f"the student's changes ({len(latencies)}): p50 {statistics.median(latencies):.2f} s, "
          f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s")
    print(f"health check ({len(health.latencies)} polls): p95 {percentile(health.latencies, 0.95):.3f} s, "
          f"max {max(health.latencies):.3f} s")
    print(f"a new session afterwards: {after:.2f} s")


if __name__ == "__main__":
    main()
