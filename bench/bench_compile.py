"""First call including compile, and a restarted process reusing the persistent cache.

Target (issue 2): ≤ 1 s for the first call of a (surface, optimizer) pair, and a
restarted server reuses compiled code. Each measurement runs in a fresh Python
process (so nothing is warm in memory); the cache directory starts empty.
Run: python bench/bench_compile.py
"""
import json
import os
import subprocess
import sys
import tempfile

from _common import machine

PAIRS = [("himmelblau", "adam"), ("rosenbrock", "gd"), ("lecture_saddle", "momentum"), ("rastrigin", "rmsprop"),
         ("six_hump_camel", "adagrad"), ("ackley", "lion")]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r"""
import json, sys, time
sys.path.insert(0, ROOT)
import jax, numpy as np
import optimizers
optimizers.enable_persistent_cache(CACHE)
out = {}
for surface, opt in PAIRS:
    t0 = time.perf_counter()
    optimizers.trajectories(surface, opt, np.array([[0.3, -0.2]], np.float32), 300)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    optimizers.trajectories(surface, opt, np.array([[0.1, 0.2]], np.float32), 300, lr=0.002)
    out[f"{surface}/{opt}"] = (first, time.perf_counter() - t0)
print(json.dumps(out))
"""


def child(cache: str) -> dict:
    code = CHILD.replace("ROOT", repr(ROOT)).replace("CACHE", repr(cache)).replace("PAIRS", repr(PAIRS))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as cache:
        cold = child(cache)
        files = sum(len(f) for _, _, f in os.walk(cache))
        restarted = child(cache)
    print(f"# {machine()}")
    print(f"first call of a (surface, optimizer) pair, 300 steps, fresh process; {files} cache entries written")
    print(f"{'pair':28s} {'cold: compile+run':>18s} {'restarted (disk cache)':>23s} {'warm':>8s}")
    for pair in cold:
        print(f"{pair:28s} {cold[pair][0] * 1e3:15.0f} ms {restarted[pair][0] * 1e3:20.0f} ms {cold[pair][1] * 1e3:6.1f} ms")
    worst = max(v[0] for v in cold.values())
    print(f"worst cold first call: {worst:.2f} s (target <= 1 s); "
          f"worst after restart: {max(v[0] for v in restarted.values()):.2f} s")
