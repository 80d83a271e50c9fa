"""Memory that does not grow with use: figures released between reruns, no compiles per step count,
caches bounded in bytes under one budget, a real server's resident memory flat under fresh values (issue 24)."""
import gc

import numpy as np
import plotly.graph_objects as go
import pytest
from browser_support import run_async
from conftest import ROOT, TIMEOUT, ok
from streamlit.testing.v1 import AppTest

import compute
import controls
import memory_budget
import optimizers


def live_figures() -> int:
    """How many Plotly figures are alive in this process (after a full collection)."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, go.Figure))


def widget_metadata(at: AppTest) -> int:
    """How many widgets' metadata the AppTest's session keeps (Streamlit's private store)."""
    return len(at._session_state._state._new_widget_state.widget_metadata)


def test_playground_reruns_do_not_keep_their_figures_alive():
    """Each new step count draws a new clickable map; the last runs' figures and widget entries must go.

    The map's element id changes with its figure, Streamlit keeps every id's metadata with its callback,
    and a callback defined in the page held that run's globals: one more live figure per rerun.
    """
    before = live_figures()  # other tests of this process may hold figures of their own
    at = ok(AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run())
    ok(at.switch_page("app_pages/playground.py").run())
    figures_after, metadata_after = [], []
    for steps in (301, 302, 303, 304):
        ok(at.number_input("steps").set_value(steps).run())
        figures_after.append(live_figures())
        metadata_after.append(widget_metadata(at))
    assert figures_after[-1] <= figures_after[0] <= before + 1, (before, figures_after)
    assert metadata_after[-1] == metadata_after[0], metadata_after


def test_a_click_on_the_map_moves_the_current_surfaces_point(monkeypatch):
    """The callback holds two strings; the surface is read when the click arrives."""
    state = {"surface": "himmelblau", "contour": {"selection": {"points": [{"x": 1.23456, "y": -2.0}]}}}
    monkeypatch.setattr(controls.widgets.st, "session_state", state)
    callback = controls.point_from_click("contour", "{axis}1_{surface}")
    assert all(isinstance(a, str) for a in callback.args)
    callback()
    assert (state["x1_himmelblau"], state["y1_himmelblau"]) == (1.235, -2.0)
    state["surface"] = "custom:x**2"
    callback()
    assert state[f"x1_{controls.surface_key('custom:x**2')}"] == 1.235


def test_a_new_momentum_step_count_compiles_nothing(count_compiles):
    """The Momentum page's runs (2-D race and the ball on the line) at step counts of one bucket."""
    def page(steps):
        optimizers.trajectories("local_minima", "momentum", np.asarray([(2.3, 1.5)], np.float32), steps,
                                lr=0.01, momentum=0.9)
        optimizers.line_race("local_minima", (2.3, 1.5), (0.5, 0.5), steps, 0.01, 0.9)

    page(300)
    assert [count_compiles(lambda s=s: page(s), name=None) for s in (301, 302, 317)] == [0, 0, 0]


# ------------------------------------------------------------------ one budget, in bytes
@pytest.fixture
def small_budget():
    """A 4 MB budget for the test, the process's own restored after it (caches emptied either way)."""
    before = memory_budget.budget()
    for cache in memory_budget.CACHES.values():
        cache.clear()
    memory_budget.set_budget(4 * 2**20)
    yield memory_budget.budget()
    for cache in memory_budget.CACHES.values():
        cache.clear()
    memory_budget.set_budget(before)


def test_the_budget_comes_from_the_environment_with_a_default():
    assert memory_budget.budget_bytes({}) == memory_budget.DEFAULT_BUDGET_MB * 2**20
    assert memory_budget.budget_bytes({memory_budget.BUDGET_ENV: "1500"}) == 1500 * 2**20
    for bad in ("", "lots", "-5", "0", "nan", "inf"):
        assert memory_budget.budget_bytes({memory_budget.BUDGET_ENV: bad}) == memory_budget.DEFAULT_BUDGET_MB * 2**20
    assert sum(memory_budget.SHARES.values()) == pytest.approx(1.0)


def test_an_entry_is_measured_by_its_arrays_through_named_tuples_lists_and_dicts():
    run = optimizers.Trajectories(*(np.zeros((2, 100, 2), np.float32) for _ in range(5)), np.zeros(2, np.int64))
    arrays = 5 * 2 * 100 * 2 * 4 + 2 * 8
    assert arrays <= memory_budget.nbytes(run) <= arrays + 1024
    nested = [(np.ones(1000), {"a": np.ones((10, 10), np.float32)}), "label"]
    assert 8000 + 400 <= memory_budget.nbytes(nested) <= 8000 + 400 + 2048


def test_every_cache_stays_within_its_share_and_all_within_the_budget(small_budget):
    """Entries of 100 kB each, three times as many as a share holds, into every cache."""
    entry = 100_000
    for name, cache in memory_budget.CACHES.items():
        share = int(small_budget * memory_budget.SHARES[name])
        for i in range(3 * share // entry):
            cache.put(("filler", i), (np.zeros(entry // 8), f"entry {i}"))
            assert cache.used <= share
        assert cache.used > share - 2 * entry  # it fills its share, not a fraction of it
        assert ("filler", 0) not in cache and ("filler", 3 * share // entry - 1) in cache  # oldest out first
    assert sum(c.used for c in memory_budget.usage()) <= small_budget


def test_the_least_recently_used_entry_goes_first_and_an_oversized_one_is_not_kept(small_budget):
    cache = memory_budget.CACHES["runs"]
    per = cache.limit // 4
    for k in "abc":
        cache.put(k, np.zeros(per // 8 - 100))
    cache.get("a")  # asked for again: now the most recent
    cache.put("d", np.zeros(per // 8 - 100))
    cache.put("e", np.zeros(per // 8 - 100))
    assert "b" not in cache and "a" in cache and "e" in cache
    assert not cache.put("huge", np.zeros(cache.limit // 8 + 1)) and "huge" not in cache


def test_a_cached_page_function_returns_one_read_only_result_and_counts_it(small_budget):
    first = compute.surface_grid("himmelblau", 60)
    assert compute.surface_grid("himmelblau", resolution=60) is first  # keywords and positions: one key
    assert not first.loss.flags.writeable
    grids = memory_budget.CACHES["grids"]
    assert grids.used >= first.loss.nbytes and len(grids) == 1
    compute.surface_grid.clear()
    assert len(grids) == 0 and grids.used == 0


def test_a_cached_run_keeps_what_it_shows_not_the_padded_buffer_of_its_compiled_call(small_budget):
    """The runner pads steps and batch and NumPy views JAX's output without a copy: a cached slice kept the whole
    padded XLA buffer (and its JAX array) alive while the cache counted the slice. Now it keeps a compact copy."""
    import jax

    def live_jax_bytes() -> int:
        gc.collect()
        return sum(a.nbytes for a in jax.live_arrays())

    view = optimizers.trajectories("himmelblau", "momentum", np.zeros((3, 2), np.float32), 301, lr=0.01, momentum=0.9)
    assert memory_budget.nbytes(view) > 1.5 * sum(a.nbytes for a in view)  # counted by the buffers it holds
    del view
    before = live_jax_bytes()
    run = compute.trajectory("himmelblau", "momentum", (0.0, 0.0), 301, lr=0.01, momentum=0.9)
    assert all(a.base is None for a in run)
    assert live_jax_bytes() <= before  # nothing of the compiled call stays alive with the cached result
    runs = memory_budget.CACHES["runs"]
    assert runs.used <= sum(a.nbytes for a in run) + 2048
    compute.trajectories.clear()


HEAP_PROBE = """
import ctypes, json, sys
sys.path.insert(0, sys.argv[1])
import memory_budget
tuned = memory_budget.tune_malloc() if sys.argv[2] == "1" else False

class Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Mallinfo2
kept = []
for run in range(60):  # a page run's large temporaries (of fresh sizes), freed, between small blocks that live on
    big = [bytearray((1 + (run * 7 + i) % 5) * 2**20 + run * 4096) for i in range(4)]
    kept.append(bytearray(2048))
    del big
print(json.dumps({"tuned": tuned, "free_held_mb": libc.mallinfo2().fordblks / 2**20}))
"""


def test_large_temporaries_go_back_to_the_machine_once_malloc_is_tuned():
    """glibc raises its mmap threshold after the first large block is freed; later large temporaries then come
    from the heap, and what they leave free between live blocks stays with the process. ``tune_malloc`` fixes the
    threshold. Measured in fresh interpreters (the test process's heap has its own history)."""
    import json
    import os
    import subprocess
    import sys

    def probe(tune: bool) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
        out = subprocess.run([sys.executable, "-c", HEAP_PROBE, str(ROOT), "1" if tune else "0"], env=env,
                             capture_output=True, text=True, check=True, timeout=120).stdout
        return json.loads(out.strip().splitlines()[-1])

    tuned = probe(True)
    if not tuned["tuned"]:
        pytest.skip("not glibc: nothing to tune")
    assert tuned["free_held_mb"] < 2, tuned
    assert probe(False)["free_held_mb"] > 8  # the behaviour it fixes, in the same probe


# ------------------------------------------------------------------ a real server under a class's fresh values
SERVER_BUDGET_MB = 8  # small, so the caches reach their shares during the warm-up and what grows after is a leak
WARM_CHANGES = 80
MEASURED_CHANGES = 200
MAX_MB_PER_CHANGE = 0.2  # between what this test measured with the fixes and without them (docs/memory.md)


def test_a_server_under_fresh_values_stops_growing(monkeypatch):
    """Four sessions (one per load_test page) change a widget to values nobody used; after a warm-up the
    server's RSS may grow at most MAX_MB_PER_CHANGE per change (the code before issue 24 grew several times more).
    RSS is read once the server has collected the class's garbage (memory_budget.collect_garbage_now_and_then):
    what it holds, not the moment's pile of cycles waiting for the collector."""
    import asyncio
    import time

    import websockets

    from bench import load_test

    monkeypatch.setenv(memory_budget.BUDGET_ENV, str(SERVER_BUDGET_MB))
    # glibc otherwise opens a heap arena per concurrent script thread, and how many depends on the machine's timing.
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    proc, url = load_test.start_server()
    fresh = load_test.FreshValues()

    async def changes(total: int) -> list:
        crowd = [load_test.Session(url, *scenario, fresh=fresh) for scenario in load_test.SCENARIOS]

        async def drive(session):
            async with websockets.connect(f"{url}/_stcore/stream", subprotocols=["streamlit"], max_size=None,
                                          open_timeout=120) as ws:
                await session.run_once(ws)
                for _ in range(total // len(crowd)):
                    session.latencies.append(
                        await session.run_once(ws, fresh.next(session.key, session.kind, session.values)))

        await asyncio.gather(*(drive(s) for s in crowd))
        return crowd

    def settled_rss() -> float:
        """RSS once the server has collected the class's garbage: its next run after COLLECTION_PERIOD_S does."""
        time.sleep(memory_budget.COLLECTION_PERIOD_S + 0.5)
        run_async(changes(len(load_test.SCENARIOS)))
        return load_test.rss_mb(proc.pid)

    try:
        warm = run_async(changes(WARM_CHANGES))
        before = settled_rss()
        crowd = run_async(changes(MEASURED_CHANGES))
        after = settled_rss()
    finally:
        proc.terminate()
        proc.wait(20)
    errors = [e for s in warm + crowd for e in s.errors]
    assert not errors, errors[:3]
    served = sum(len(s.latencies) for s in crowd)
    assert served == MEASURED_CHANGES
    print(f"server RSS {before:.0f} → {after:.0f} MB in {served} changes ({(after - before) / served:+.3f} MB per change)")
    assert (after - before) / served <= MAX_MB_PER_CHANGE, f"RSS {before:.0f} → {after:.0f} MB in {served} changes"


def test_cyclic_garbage_is_collected_by_the_clock(monkeypatch):
    """``collect_garbage_now_and_then`` frees cycles once COLLECTION_PERIOD_S has passed, and not before."""
    import weakref

    class Node:
        pass

    def cycle() -> weakref.ref:
        a, b = Node(), Node()
        a.other, b.other = b, a
        return weakref.ref(a)

    monkeypatch.setattr(memory_budget, "_LAST_COLLECTION", [__import__("time").monotonic()])  # one just now
    gc.disable()  # only the calls under test may collect
    try:
        kept = cycle()
        assert memory_budget.collect_garbage_now_and_then() is False
        assert kept() is not None  # within the period the cycle waits
        memory_budget._LAST_COLLECTION[0] = float("-inf")  # the period has passed
        assert memory_budget.collect_garbage_now_and_then() is True
        assert kept() is None
        assert memory_budget.collect_garbage_now_and_then() is False  # and the clock starts again
    finally:
        gc.enable()
