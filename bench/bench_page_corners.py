"""The pages' largest allowed runs on a typed surface (the 30 s rule): compute time at the corners.

Typed formulas run on the shared interpreter (``surfaces.interpreter``), which needs no compile per formula
but is slower per step than a compiled formula (~2.5 µs per instruction and step under load here), so the
corners are the longest runs on the longest formula (100 instructions) and on a typical one:

* Playground: 6 optimizers × 3 starts × ``MAX_STEPS`` (20,000) steps;
* Adaptive learning rate: gradient descent, 2 runs × 100,000 steps (``optimizers.MAX_STEPS``);
* Momentum: ``MAX_STEPS`` (5,000) steps, gradient descent and momentum.

Each is timed in a fresh process for the first typed formula (the runner's compiles for the interpreter
included, empty compile cache) and again for a second, new formula (what every later formula costs).

``--built-in``: the built-in pages' own largest runs, in a fresh process with empty caches (compiles
included, the result cache bypassed), each a figure for the 30 s rule:

* Normalization: every learning rate (7) × the largest batch (256) × ``MAX_BN_STEPS`` (1,200) steps, for
  the page's four trainings (with BN, without, layer norm, BN at the second p) — what the page runs, one
  progress bar each;
* Schedules: the warm-up experiment (12 networks; every η costs the same).

    .venv/bin/python bench/bench_page_corners.py [--built-in]
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
import optimizers, runtime, surfaces
runtime.set_up()  # as the app: the persistent compilation cache, bounded
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


BUILT_IN = r"""
import json, sys, time
import networks
sys.path.insert(0, "app_pages")
out = {}
corner = json.loads(sys.argv[1])
kinds = (dict(batch_norm=True), dict(batch_norm=False), dict(batch_norm=False, layer_norm=True),
         dict(batch_norm=True, momentum_p=0.999))
t = time.perf_counter()
for switches in kinds:
    config = networks.BNConfig(lrs=tuple(corner["lrs"]), steps=corner["steps"], batch_size=corner["batch_size"],
                               **switches)
    networks.train_bn_experiment(networks.digits(), config)
out["Normalization: 4 trainings x 7 lr x 1,200 steps, batch 256"] = time.perf_counter() - t
t = time.perf_counter()
networks.warmup_study(lr=0.03)
out["Schedules warm-up experiment (12 networks)"] = time.perf_counter() - t
print(json.dumps(out))
"""


# The Normalization page's largest allowed run (tests/test_pages_part2.py checks it against the page's limits).
NORMALIZATION_CORNER = {"lrs": [0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0], "steps": 1200, "batch_size": 256}


def built_in() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPATH": ROOT, "ERROR_SURFACE_LAB_CACHE": cache}
        out = subprocess.run([sys.executable, "-c", BUILT_IN, json.dumps(NORMALIZATION_CORNER)], env=env, capture_output=True, text=True, timeout=3000)
        if out.returncode:
            sys.exit("failed: " + out.stderr.strip().splitlines()[-1])
        for what, seconds in json.loads(out.stdout.splitlines()[-1]).items():
            print(f"{what:60s} {seconds:6.1f} s (fresh process, empty caches)", flush=True)


def main() -> None:
    if "--built-in" in sys.argv[1:]:
        return built_in()
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
