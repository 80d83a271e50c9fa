"""A page's first run as the server alone serves it: a new session, no browser.

Each visit opens a new websocket session (Streamlit's own protocol, as
``bench/load_test.py`` speaks it) and times the request for the page until
``script_finished``: the script's run plus sending every element, 1.2 MB for
Critical points. Compare ``bench/bench_page_draw.py``, which times the same
visit in a browser tab: the difference is the browser's (its main thread takes
the messages one at a time and draws each chart before it reads the next).

Prints, per page, the first visit (the process's caches empty) and the median
of the next ``--repeat`` (caches warm, as for a class's second student).
Run: .venv/bin/python bench/bench_page_server.py [--repeat 3] [--pages critical_points batch_size]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from load_test import Session, start_server  # noqa: E402

import app_pages  # noqa: E402 - the page registry

PAGES = [record.slug for record in app_pages.PAGES if record.slug]


async def first_runs(url: str, page: str, visits: int) -> list[float]:
    """Seconds from the page request to ``script_finished``, for ``visits`` new sessions one after the other."""
    times = []
    for _ in range(visits):
        session = Session(url, page, key="", kind="int", values=[0])  # no widget is changed: the page's first run
        async with websockets.connect(f"{url}/_stcore/stream", subprotocols=["streamlit"], max_size=None,
                                      open_timeout=60) as ws:
            times.append(await session.run_once(ws))
        if session.errors:
            raise SystemExit(f"{page}: {session.errors}")
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pages", nargs="*", default=PAGES)
    args = ap.parse_args()
    proc, url = start_server()
    try:
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; a new session per visit")
        for page in args.pages:
            first, *warm = asyncio.run(first_runs(url, page, 1 + args.repeat))
            print(f"{page:24s} first visit {first:5.2f} s   warm median {statistics.median(warm):5.2f} s   "
                  f"(runs: {', '.join(f'{t:.2f}' for t in warm)})")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
