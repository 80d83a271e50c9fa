"""Memory of one server process after many distinct typed formulas (the issue's 300), as the pages use them.

For each new formula: its map (``compute``'s grid at the Playground's 120²), its critical points and one
300-step Adam run, then ``runtime.trim_compile_caches()`` as ``app.py`` does before every page. Prints the
resident set size at the start, every 25 formulas and at the end; the target is growth ≤ 500 MB after 300.

    .venv/bin/python bench/bench_formula_memory.py [--count 300]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

import optimizers  # noqa: E402
import runtime  # noqa: E402 - the app's bounds: persistent compile cache, trimmed executables
import surfaces  # noqa: E402

TARGET_MB = 500


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--limit", type=int, default=runtime.MAX_EXECUTABLES, help="executables kept per compiled function")
    args = ap.parse_args()
    runtime.set_up()  # as the app does, before the first compile
    surfaces.grid("himmelblau", 120)  # the process's fixed costs first: JAX, the compiler, one surface
    surfaces.critical_points("himmelblau")
    optimizers.trajectories("himmelblau", "adam", np.array([[0.3, 0.2]], np.float32), 300, lr=0.05)
    start, t0 = rss_mb(), time.perf_counter()
    print(f"start: {start:.0f} MB (executables kept per function: {args.limit})", flush=True)
    for i in range(1, args.count + 1):
        s = surfaces.from_formula(f"x**2 - y**2 + {i / 1000:.3f}*sin({1 + i % 7}*x)*cos(y)")
        surfaces.grid(s.name, 120)
        surfaces.critical_points(s.name)
        optimizers.trajectories(s.name, "adam", np.array([[0.3, 0.2]], np.float32), 300, lr=0.05)
        runtime.trim_compile_caches(args.limit)
        if i % 25 == 0 or i == args.count:
            print(f"{i:4d} formulas: {rss_mb():.0f} MB (+{rss_mb() - start:.0f}), {time.perf_counter() - t0:.0f} s",
                  flush=True)
    growth = rss_mb() - start
    print(f"growth after {args.count} formulas: {growth:.0f} MB (target ≤ {TARGET_MB} MB for 300)")


if __name__ == "__main__":
    main()
