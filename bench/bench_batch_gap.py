"""The small-vs-large batch gap study (LECTURES 1.5, the Network lab's tab): its first run and a second visit, each in a fresh process.

Target (issue 15): Keskar et al.'s comparison on ``networks.BATCH_GAP_SETTING``
(10 seeds × 2 batch sizes, one vmapped call per batch size) finishes within
~20 s on this 2-core machine with empty caches, behind a progress bar, and a
second visit (a new server process) is served from the on-disk result cache.
Run: python bench/bench_batch_gap.py
"""
import json
import os
import subprocess
import sys
import tempfile

from _common import machine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHILD = r"""
import json, sys, time
sys.path.insert(0, ROOT)
t0 = time.perf_counter()
import compute
imported = time.perf_counter() - t0
ticks = []
t0 = time.perf_counter()
study, cached = compute.batch_gap_study(progress=lambda f: ticks.append(round(time.perf_counter() - t0, 2)))
print(json.dumps(dict(seconds=time.perf_counter() - t0, cached=cached, seeds=len(study.gap),
                      progress_calls=len(ticks), import_seconds=imported, gap=study.gap_mean,
                      spread=study.gap_spread, sharpness=study.mean["sharpness"])))
"""


def run(cache: str) -> dict:
    env = dict(os.environ, ERROR_SURFACE_LAB_CACHE=cache)
    out = subprocess.run([sys.executable, "-c", CHILD.replace("ROOT", repr(ROOT))], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(machine())
    with tempfile.TemporaryDirectory() as cache:
        first, second = run(cache), run(cache)
    print(f"batch gap study, empty caches:            {first['seconds']:.1f} s for {first['seeds']} seeds × 2 batch "
          f"sizes, {first['progress_calls']} progress updates (target ≤ 20 s)")
    print(f"second visit, a new process (same cache): {second['seconds']:.2f} s, from the cache: {second['cached']}")
    print(f"test accuracy gap {100 * first['gap']:+.1f} ± {100 * first['spread']:.1f} points; "
          f"λmax small {first['sharpness'][0]:.3g}, large {first['sharpness'][1]:.3g}")
