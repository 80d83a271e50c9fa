"""The pages' largest allowed runs on a typed surface (the 30 s rule): compute time at the corners.

Typed formulas run on the shared interpreter (``surfaces.interpreter``), which needs no compile per formula
but is slower per step than a compiled formula (~2.5 µs per instruction and step under load here), so the
corners are the longest runs on the longest formula (100 instructions) and on a typical one:

* Playground: 6 optimizers × 3 starts × ``MAX_STEPS`` (20,000) steps;
* Adaptive learning rate: gradient descent, 2 runs × 100,000 steps (``optimizers.MAX_STEPS``);
* Momentum: ``MAX_STEPS`` (5,000) steps, gradient descent and momentum.

Each is timed in a fresh process for the first typed formula (the runner's compiles for the interpreter
included, empty compile cache) and again for a second, new formula (what every later formula costs).

    .venv/bin/python bench/bench_page_corners.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r"""
import json, sys, time
import numpy as np
import caches, optimizers, surfaces
PLAYGROUND = ("gd", "momentum", "nesterov", "adam", "rmsprop", "adagrad")

def corners(text):
    s = surfaces.from_formula(text)
    starts = np.array([[0.3, 0.2], [-0.5, 0.4], [0.6, -0.7]], np.float32)
    out = {}
    t = time.perf_counter()
    for name in PLAYGROUND:
        optimizers.trajectories(s, name, starts, 20_000, lr=1e-3)
    out["Playground 6 × 3 × 20,000"] = time.perf_counter() - t
    t = time.perf_counter()
    optimizers.trajectories(s, "gd", starts[:2], 100_000, lr=np.array([1e-2, 1e-7], np.float32))
    out["Adaptive LR 2 × 100,000"] = time.perf_counter() - t
    t = time.perf_counter()
    optimizers.trajectories(s, "gd", starts[:1], 5_000, lr=1e-3)
    optimizers.trajectories(s, "momentum", starts[:1], 5_000, lr=1e-3)
    out["Momentum 2 × 5,000"] = time.perf_counter() - t
    return out

texts = json.loads(sys.argv[1])
print(json.dumps([corners(t) for t in texts]))
"""

FORMULAS = {
    "100 instructions": ("*".join(["x", "y"] * 24) + "*x", "*".join(["y", "x"] * 24) + "*y"),
    "16 instructions": ("x**2 - y**2 + 0.1*sin(5*x)", "x**2 + 3*y**2 + cos(4*y)"),
}


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        for label, (first, second) in FORMULAS.items():
            env = {**os.environ, "PYTHONPATH": ROOT, "ERROR_SURFACE_LAB_CACHE": os.path.join(cache, label)}
            out = subprocess.run([sys.executable, "-c", CHILD, json.dumps([first, second])], env=env,
                                 capture_output=True, text=True, timeout=3000)
            if out.returncode:
                print(label, "failed:", out.stderr.strip().splitlines()[-1])
                continue
            for which, times in zip(("first formula (compiles)", "a new formula"), json.loads(out.stdout.splitlines()[-1])):
                print(f"{label:17s} {which:25s} " + "  ".join(f"{k} {v:6.2f} s" for k, v in times.items()), flush=True)


if __name__ == "__main__":
    main()
