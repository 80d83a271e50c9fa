"""A class opens one link at once: N new sessions ask one server for the same page in the same moment.

For every page of the registry (``app_pages.PAGES``; ``--pages`` picks some),
one session visits first (as the teacher does before the class: compiles and
the page caches warm), then ``--sessions`` sessions connect and all ask for the
page together, in Streamlit's own websocket protocol (``bench/load_test.py``'s
``Session``). Printed per page: p50 / p95 / max seconds from a session's
request to its finished page (``script_finished``), and the server's CPU
seconds per visit (``/proc/<pid>/stat`` before and after the burst, divided by
the sessions), with the machine's load average beside them: figures taken on
a busy machine are not the server's alone.

Run: .venv/bin/python bench/bench_burst.py [--sessions 40] [--pages momentum critical_points] [--rounds 1]
     [--url ws://host:port --pid PID]   (default: starts its own server on loopback)
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from load_test import Session, app_under_load, cpu_seconds  # noqa: E402

import app_pages  # noqa: E402 - the page registry


def page_names(wanted: list[str] | None) -> list[tuple[str, str]]:
    """(record name, URL path) of the pages asked for, by either name, in the registry's order."""
    records = [(r.name, r.slug) for r in app_pages.PAGES]
    if not wanted:
        return records
    unknown = set(wanted) - {n for n, _ in records} - {s for _, s in records}
    if unknown:
        raise SystemExit(f"unknown pages {sorted(unknown)}; the registry has {[n for n, _ in records]}")
    return [(n, s) for n, s in records if n in wanted or s in wanted]


async def burst(url: str, slug: str, sessions: int) -> tuple[list[float], list[str]]:
    """``sessions`` connections opened first, then every page request sent at once; (seconds each, errors)."""
    crowd = [Session(url, slug, key="", kind="int", values=[0]) for _ in range(sessions)]
    sockets = await asyncio.gather(*(websockets.connect(f"{url}/_stcore/stream", subprotocols=["streamlit"],
                                                        max_size=None, open_timeout=120) for _ in crowd))
    try:
        times = await asyncio.gather(*(s.run_once(ws) for s, ws in zip(crowd, sockets)))
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))
    return sorted(times), [e for s in crowd for e in s.errors]


def quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=40)
    ap.add_argument("--pages", nargs="*", default=None, help="record names or URL paths (default: every page)")
    ap.add_argument("--rounds", type=int, default=1, help="bursts per page (each after the page's warm visit)")
    ap.add_argument("--url", default=None, help="ws://host:port of a running app (default: start one)")
    ap.add_argument("--pid", type=int, default=None, help="the server's pid with --url, for its CPU time")
    args = ap.parse_args()
    with app_under_load(args.url, [args.pid] if args.pid else []) as (url, pids):
        pid = pids[0] if pids else None
        cpu = (lambda: cpu_seconds(pid)) if pid else (lambda: float("nan"))  # noqa: E731
        print(f"{args.sessions} sessions open one page at once; {os.cpu_count()} cores; against {url}")
        for name, slug in page_names(args.pages):
            warm, errors = asyncio.run(burst(url, slug, 1))  # the teacher's visit before the class
            for _ in range(args.rounds):
                load_before = os.getloadavg()[0]
                cpu0 = cpu()
                times, errs = asyncio.run(burst(url, slug, args.sessions))
                per_visit = (cpu() - cpu0) / args.sessions
                errors += errs
                print(f"{name:16s} p50 {quantile(times, 0.5):5.2f} s  p95 {quantile(times, 0.95):5.2f} s  "
                      f"max {times[-1]:5.2f} s  server CPU {1000 * per_visit:5.0f} ms/visit  "
                      f"(warm visit {warm[0]:.2f} s; load average {load_before:.1f} before, "
                      f"{os.getloadavg()[0]:.1f} after)" + (f"  ERRORS {len(errors)}: {errors[:2]}" if errors else ""))


if __name__ == "__main__":
    main()
