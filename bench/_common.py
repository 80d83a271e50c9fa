"""Timing helpers for the bench scripts (run them from the repository root)."""
from __future__ import annotations

import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def best_of(fn, repeat: int = 5) -> float:
    """Best wall time of ``repeat`` calls, in seconds (the first call is not special-cased)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def machine() -> str:
    import jax

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, JAX {jax.__version__} on "
            f"{jax.default_backend().upper()}")


# Runs in a fresh interpreter: imports compute, runs one cached experiment with a progress callback and prints
# JSON: its time, whether it came from the cache, the progress calls and what ``SUMMARY`` reads off the result.
_VISIT = r"""
import json, sys, time
sys.path.insert(0, ROOT)
t0 = time.perf_counter()
import compute
imported = time.perf_counter() - t0
ticks = []
t0 = time.perf_counter()
result, cached = CALL
print(json.dumps(dict(seconds=time.perf_counter() - t0, cached=cached, progress_calls=len(ticks),
                      import_seconds=imported, **(SUMMARY))))
"""


def first_and_second_visit(call: str, summary: str) -> tuple[dict, dict]:
    """An experiment's first run on empty caches and a second visit, each in a new process sharing one cache folder.

    ``call``: Python that returns ``(result, cached)`` and passes ``progress=lambda f: ticks.append(f)``;
    ``summary``: a dict expression over ``result`` (numbers only), added to what each visit prints.
    A second visit must come from the on-disk result cache, as a restarted server's would.
    """
    import json
    import subprocess
    import tempfile

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child = _VISIT.replace("ROOT", repr(root)).replace("CALL", call).replace("SUMMARY", summary)
    with tempfile.TemporaryDirectory() as cache:
        visits = [json.loads(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True,
                                            env=dict(os.environ, ERROR_SURFACE_LAB_CACHE=cache)
                                            ).stdout.strip().splitlines()[-1]) for _ in range(2)]
    return visits[0], visits[1]
