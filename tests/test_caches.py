"""The on-disk result cache: plain arrays and numbers only, a miss for anything else, one computation per key."""
from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

import caches
import networks
import runtime

ROOT = Path(__file__).resolve().parents[1]


class Inner(NamedTuple):
    weights: np.ndarray
    label: str


class Result(NamedTuple):
    inner: Inner
    losses: np.ndarray
    best: float
    count: int
    pair: tuple[float, float]
    tree: dict
    diverged_at: np.ndarray


def example() -> Result:
    return Result(Inner(np.arange(6.0).reshape(2, 3), "a"), np.array([1.0, np.nan, np.inf], np.float32), 0.25, 3,
                  (1.5, -2.0), {"w": np.ones(2), "b": [np.zeros(1), 4]}, np.int64(-1))


@pytest.fixture
def results(tmp_path, monkeypatch):
    """A fresh result folder, nothing in memory."""
    monkeypatch.setattr(caches, "RESULTS_DIR", str(tmp_path / "cache" / "results"))
    monkeypatch.setattr(runtime, "_disk_problem", None)  # the disk on, whatever a storage-fault test left before
    caches.clear_memory()
    yield Path(caches.RESULTS_DIR)
    caches.clear_memory()


def cached(make, key=("k", 1), expected=Result):
    return caches.disk_cached("test", key, make, expected)


def assert_same(a: Result, b: Result):
    np.testing.assert_array_equal(a.inner.weights, b.inner.weights)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert (a.inner.label, a.best, a.count, a.pair, int(a.diverged_at)) == (b.inner.label, b.best, b.count, b.pair,
                                                                          int(b.diverged_at))
    assert type(b) is Result and type(b.inner) is Inner and b.losses.dtype == np.float32
    np.testing.assert_array_equal(a.tree["b"][0], b.tree["b"][0]) and b.tree["b"][1] == 4


def test_a_result_round_trips_through_a_file_and_a_restart(results):
    value, hit = cached(example)
    assert not hit
    files = list(results.glob("*.npz"))
    assert len(files) == 1 and stat.S_IMODE(results.stat().st_mode) == 0o700
    caches.clear_memory()
    again, hit = cached(lambda: pytest.fail("should come from the file"))
    assert hit
    assert_same(value, again)


def test_the_result_folder_is_inside_the_configured_cache_folder(monkeypatch):
    monkeypatch.setattr(caches, "RESULTS_DIR", None)  # the app's: not set
    assert os.path.dirname(caches.results_folder()) == runtime.cache_folder() == runtime.configured_folder()
    status = caches.disk_status()
    assert (status["folder"], status["results"]) == (runtime.cache_folder(), caches.results_folder())


def planted_pickle(path: Path, marker: Path) -> None:
    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path.write_bytes(pickle.dumps(Exploit()))


def test_a_planted_pickle_is_never_executed(results, tmp_path):
    marker = tmp_path / "ran"
    value, _ = cached(example)
    [path] = results.glob("*.npz")
    planted_pickle(path, marker)  # under the very name the key maps to
    for name in ("test-x.pkl", path.stem + ".pkl"):
        planted_pickle(results / name, marker)
    caches.clear_memory()
    again, hit = cached(example)
    assert not marker.exists()
    assert not hit  # the planted file was a miss, recomputed and replaced by plain arrays
    assert_same(value, again)
    with np.load(path, allow_pickle=False) as npz:
        assert "tree" in npz.files


@pytest.mark.parametrize("stored", [7, "text", (1, 2), Inner(np.zeros(1), "x"), None])
def test_a_file_of_another_type_is_recomputed(results, stored):
    cached(example)
    [path] = results.glob("*.npz")
    key_text = repr((caches.SCHEMA_VERSION, "test", ("k", 1), caches._type_signature(Result)))
    caches.write_result(str(path), key_text, stored)  # right name and key, wrong type
    caches.clear_memory()
    again, hit = cached(example)
    assert not hit and type(again) is Result


def test_a_result_type_that_gained_a_field_is_another_key(results):
    cached(example)

    class Result(NamedTuple):  # noqa: F811 - the same name, one field more
        inner: Inner
        extra: int

    caches.clear_memory()
    value, hit = caches.disk_cached("test", ("k", 1), lambda: Result(Inner(np.zeros(1), "b"), 1), Result)
    assert not hit and value.extra == 1


def test_truncated_or_foreign_files_are_misses(results):
    cached(example)
    [path] = results.glob("*.npz")
    for content in (b"", path.read_bytes()[:50], b"PK\x03\x04garbage"):
        path.write_bytes(content)
        caches.clear_memory()
        assert not cached(example)[1]


def test_two_threads_compute_one_key_once_and_both_get_it(results):
    calls = []

    def make():
        calls.append(1)
        time.sleep(0.3)
        return example()

    out = [None, None]
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, cached(make))) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert sorted(hit for _, hit in out) == [False, True]
    assert_same(out[0][0], out[1][0])


WORKER = """
import sys, time
import numpy as np
import caches
caches.RESULTS_DIR = sys.argv[1]
def make():
    with open(sys.argv[2], "a") as f:
        f.write("computed\\n")
    time.sleep(1.0)
    return np.arange(5.0)
value, hit = caches.disk_cached("proc", ("one key",), make, np.ndarray)
print(hit, value.sum())
"""


def test_two_processes_compute_one_key_once_and_both_get_it(results, tmp_path):
    log = tmp_path / "log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ERROR_SURFACE_LAB_CACHE": str(tmp_path / "jax")}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(results), str(log)], env=env, stdout=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert log.read_text().count("computed") == 1
    assert sorted(outs) == [["False", "10.0"], ["True", "10.0"]]


def test_eviction_keeps_the_newest_and_tolerates_files_removed_meanwhile(results, monkeypatch):
    results.mkdir(parents=True)
    for i in range(5):
        p = results / f"test-{i}.npz"
        p.write_bytes(b"x")
        os.utime(p, (i, i))
    listing = os.listdir(results) + ["test-gone.npz"]  # listed, then removed by another process
    monkeypatch.setattr(caches.os, "listdir", lambda folder: listing)
    assert caches.evict(str(results), keep=2) == 3
    assert sorted(p.name for p in results.glob("*.npz")) == ["test-3.npz", "test-4.npz"]


def test_unique_temporary_files_when_writes_overlap(results):
    results.mkdir(parents=True)
    path = str(results / "test-same.npz")
    errors = []

    def write():
        try:
            for _ in range(20):
                caches.write_result(path, "key", example())
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=write) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert_same(example(), caches.read_result(path, "key", Result))


def test_a_real_training_result_round_trips(results):
    config = networks.TrainConfig(dataset="iris", model=networks.MLP((4,)), epochs=2, batch_size=32)
    value, _ = caches.disk_cached("train", tuple(config), lambda: networks.train_network(config), networks.TrainResult)
    caches.clear_memory()
    again, hit = caches.disk_cached("train", tuple(config), lambda: pytest.fail("cached"), networks.TrainResult)
    assert hit and again.config == config and type(again.config.model) is networks.MLP
    np.testing.assert_array_equal(again.path, value.path)
    import jax

    assert jax.tree.structure(again.final) == jax.tree.structure(value.final)
    for x, y in zip(jax.tree.leaves(again.final), jax.tree.leaves(value.final)):
        np.testing.assert_array_equal(x, y)
