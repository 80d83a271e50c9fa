"""The lecture pages under AppTest: first run (compiles, measures) and a rerun after one widget change.

Each page's first run happens in this fresh process, by default with an
empty persistent compilation cache, so it includes every compile; the Batch size
page's first run also includes its live measurement of one SGD update for
six batch sizes, which is then kept for the process.
Run: python bench/bench_lecture_pages.py
"""
import os
import statistics
import tempfile
import time

from _common import machine
from streamlit.testing.v1 import AppTest

# A cold start unless a cache folder is named: compute.py switches the persistent cache on there.
# Run twice with the same ERROR_SURFACE_LAB_CACHE=DIR to see a restarted server's first runs.
os.environ.setdefault("ERROR_SURFACE_LAB_CACHE", tempfile.mkdtemp(prefix="bench-cold-"))

# page -> (a widget kind, its key, values to cycle through on reruns)
PAGES = {
    "critical_points": ("slider", "radius", [0.2, 0.5, 1.0]),
    "momentum": ("slider", "m_t", [5, 10, 20]),
    "batch_size": ("select_slider", "b_lr", [0.02, 0.05, 0.1]),
    # Part 2: six distinct values, so every rerun computes anew (warm compiles, cold results).
    "adaptive_lr": ("select_slider", "a_eta", [0.05, 0.2, 0.5, 0.02, 0.01, 1.0]),
    "schedules": ("slider", "s_b_beta1", [0.5, 0.6, 0.7, 0.8, 0.85, 0.95]),
    "classification": ("select_slider", "c_gd_lr", [0.5, 2.0, 5.0, 10.0, 20.0, 0.2]),
    "normalization": ("select_slider", "n_scale2", [10.0, 20.0, 50.0, 200.0, 500.0, 1000.0]),
}


def page_times(name: str, kind: str, key: str, values, rounds: int = 6) -> tuple[float, list[float]]:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    at = AppTest.from_file(os.path.join(root, "app_pages", f"{name}.py"), default_timeout=600)
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    assert not at.exception, at.exception
    reruns = []
    for i in range(rounds):
        getattr(at, kind)(key=key).set_value(values[i % len(values)])
        t0 = time.perf_counter()
        at.run()
        reruns.append(time.perf_counter() - t0)
        assert not at.exception, at.exception
    return first, reruns


if __name__ == "__main__":
    print(f"# {machine()}; compile cache {os.environ['ERROR_SURFACE_LAB_CACHE']}")
    for name, (kind, key, values) in PAGES.items():
        first, reruns = page_times(name, kind, key, values)
        print(f"{name:16s} first run {first:5.2f} s;  rerun after changing {key}: median "
              f"{statistics.median(reruns) * 1e3:.0f} ms, max {max(reruns) * 1e3:.0f} ms")
