"""A Playground interaction, and the size of the animated figure.

Targets (issue 2): one slider changed -> new figure in ≤ 300 ms once warm;
the animated figure for 6 optimizers × 500 steps ≤ 1.5 MB of JSON.
Measured two ways:
  * the page's work alone: run all six optimizers (the page would recompute
    only the changed one), build the five figures, serialise them as
    Streamlit does (plotly.io.to_json); grid and critical points cached;
  * the whole page script under Streamlit's AppTest after one slider change
    (server side: everything but the browser's drawing).
Run: python bench/bench_playground.py
"""
import os
import statistics
import time

import plotly.io as pio
from _common import machine

import figures
import optimizers
import surfaces

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RACE = ["gd", "momentum", "nesterov", "adam", "rmsprop", "adagrad"]
STEPS = 500


SURFACE = "himmelblau"
GRID = surfaces.grid(SURFACE, 120)  # the page serves these two from st.cache_data
CRITICAL = surfaces.critical_points(SURFACE)


def page_work(lr: float, surface: str = SURFACE, grid=GRID, critical=CRITICAL):
    runs = [optimizers.trajectories(surface, name, [[-0.3, -0.9]], STEPS, lr=lr if i == 0 else
                                    optimizers.get(name).defaults()["lr"]) for i, name in enumerate(RACE)]
    sets = [figures.PathSet(name, r.path, r.loss) for name, r in zip(RACE, runs)]
    contour = figures.contour_figure(grid, sets, log_color=True, critical=critical, click_grid=40)
    surface3d = figures.surface3d_figure(grid, sets, log_color=True, critical=critical)
    series = [figures.Series(n, r.loss, i) for i, (n, r) in enumerate(zip(RACE, runs))]
    curves = [figures.step_curves_figure(series, title="loss", y_title="L"),
              figures.step_curves_figure([s._replace(y=r.grad_norm) for s, r in zip(series, runs)], title="g", y_title="g"),
              figures.step_curves_figure([s._replace(y=r.lr[:1]) for s, r in zip(series, runs)], title="lr", y_title="lr")]
    return [pio.to_json(f.to_dict(), validate=False) for f in (contour, surface3d, *curves)]


def apptest_interaction(rounds: int = 8) -> list[float]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(os.path.join(ROOT, "app_pages", "playground.py"), default_timeout=120)
    at.query_params["n_opt"] = "6"
    at.query_params["steps"] = str(STEPS)
    at.run()
    times = []
    choices = [0.001, 0.002, 0.005, 0.02, 0.05]
    for i in range(rounds):
        at.select_slider(key="o1_gd_lr").set_value(choices[i % len(choices)])
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        assert not at.exception
    return times


if __name__ == "__main__":
    print(f"# {machine()}")
    page_work(0.01)  # warm: compiles, critical points
    lrs = [0.001, 0.002, 0.005, 0.02, 0.05, 0.003, 0.004, 0.006]
    times, sizes = [], None
    for lr in lrs:
        t0 = time.perf_counter()
        sizes = [len(j) for j in page_work(lr)]
        times.append(time.perf_counter() - t0)
    print(f"6 optimizers x {STEPS} steps on himmelblau, one learning rate changed (warm, {len(lrs)} rounds):")
    print(f"  page work (6 runs + 5 figures + JSON): median {statistics.median(times) * 1e3:.0f} ms, "
          f"max {max(times) * 1e3:.0f} ms  (target <= 300 ms)")
    print(f"  JSON: contour map {sizes[0] / 1e6:.2f} MB, 3-D surface {sizes[1] / 1e6:.2f} MB, "
          f"three curves {sum(sizes[2:]) / 1e6:.2f} MB  (target: animated figure <= 1.5 MB)")
    t = apptest_interaction()
    print(f"  whole page script under AppTest (1 run cached, 1 recomputed): median {statistics.median(t) * 1e3:.0f} ms, "
          f"max {max(t) * 1e3:.0f} ms")
