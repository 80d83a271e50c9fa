"""Storage faults cost speed, never a page: a read-only, full, missing-and-uncreatable or corrupted cache folder.

Each fault is real where the machine allows it: a read-only tmpfs mount
(or, not being root, a folder without write permission: root ignores the
permission bits), a 64 KiB tmpfs that fills up, a path under a regular
file, and planted garbage in the result and compiled-code entries. The
cache folder is read from $ERROR_SURFACE_LAB_CACHE by ``runtime.set_up()``,
once per process (the entry point's first call; here conftest's, as in the
suite), so the pages that meet the folder (``PAGES``) are opened (AppTest,
through the entry point) in a fresh process per fault; the four processes
run at once.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import PAGE_NAMES, ROOT

import caches
import optimizers
import runtime

RESULT_PAGES = ["normalization", "network_lab"]  # the pages whose defaults go through the result cache
# Where a page meets the cache folder: the set-up every page's first run makes (Home shows it), the result cache and
# the compile cache (RESULT_PAGES use both). Every other page meets it only through the compile cache; opening all of
# them cold, with no compile cache, cost the suite minutes and proved nothing more.
PAGES = ["home", *RESULT_PAGES]
GARBAGE = b"\x28\xb5\x2f\xfd not a cache entry " * 8
PAGE_TIMEOUT = 1500

OPEN_PAGES = """
import json, sys
sys.path.insert(0, "tests")
from conftest import open_link
import caches
found = {name: [e.message for e in open_link(name, {}).exception] for name in sys.argv[1:]}
print("RESULT " + json.dumps({"exceptions": found, "disk": caches.disk_status()}))
"""


def open_pages(folder: str, pages=PAGES) -> subprocess.Popen:
    """A process that opens ``pages`` with ``folder`` as the cache folder (read with ``finish``)."""
    env = dict(os.environ, ERROR_SURFACE_LAB_CACHE=folder, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", OPEN_PAGES, *pages], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen) -> dict:
    """What the process found: {"exceptions": {page: [messages]}, "disk": caches.disk_status(), "log": stderr}."""
    try:
        out, err = process.communicate(timeout=PAGE_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    assert lines, f"the page process failed (rc {process.returncode}): {err[-3000:]}"
    return {**json.loads(lines[-1][len("RESULT "):]), "log": err}


def mount_tmpfs(where: Path, options: str) -> bool:
    """Mount a tmpfs at ``where`` (needs root and a kernel that allows it here); False if that is not possible."""
    where.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    return done.returncode == 0


def unmount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


@contextlib.contextmanager
def read_only_folder(base: Path):
    """An existing folder no one may write to: a read-only tmpfs, or (not root) a folder without write permission."""
    folder = base / "read-only"
    if os.geteuid() != 0:
        folder.mkdir()
        folder.chmod(0o500)
        try:
            yield str(folder)
        finally:
            folder.chmod(0o700)
    elif mount_tmpfs(folder, "ro,size=64k"):
        try:
            yield str(folder)
        finally:
            unmount(folder)
    else:
        yield None


@contextlib.contextmanager
def full_folder(base: Path):
    """A folder on a 64 KiB filesystem: the start check's small file fits, the first compiled entry does not."""
    folder = base / "full"
    if mount_tmpfs(folder, "size=64k,mode=0700"):
        try:
            yield str(folder)
        finally:
            unmount(folder)
    else:
        yield None


def corrupt_entries(folder: Path) -> list[Path]:
    """Overwrite every result file and every compiled-code entry in ``folder`` with garbage; returns them."""
    planted = sorted((folder / "results").glob("*.npz")) + sorted(folder.glob("*-cache"))
    for path in planted:
        path.write_bytes(GARBAGE)
    return planted


@pytest.fixture(scope="module")
def faulty_runs(tmp_path_factory):
    """{fault: what opening every page found}, the four faults' processes run at once."""
    base = tmp_path_factory.mktemp("storage-faults")
    regular_file = base / "a-file"
    regular_file.write_text("not a folder")
    corrupted = base / "corrupted"
    # The corrupted folder first gets real entries from the pages that use the result cache.
    seeded = finish(open_pages(str(corrupted), RESULT_PAGES))
    assert not any(seeded["exceptions"].values()), seeded["exceptions"]
    planted = corrupt_entries(corrupted)
    assert any(p.suffix == ".npz" for p in planted) and any(p.name.endswith("-cache") for p in planted)
    with read_only_folder(base) as read_only, full_folder(base) as full:
        folders = {"read-only": read_only, "full": full, "missing": str(regular_file / "cache"),
                   "corrupted": str(corrupted)}
        processes = {fault: open_pages(folder) for fault, folder in folders.items() if folder is not None}
        runs = {fault: finish(process) for fault, process in processes.items()}
    runs["corrupted"]["planted"] = planted
    return runs


@pytest.mark.parametrize("fault", ["read-only", "full", "missing", "corrupted"])
def test_the_pages_that_meet_the_folder_open_without_an_exception(faulty_runs, fault):
    if fault not in faulty_runs:
        pytest.skip(f"the {fault} folder needs a tmpfs mount, which this machine refuses (not root, or no mount)")
    run = faulty_runs[fault]
    assert set(PAGES) <= set(PAGE_NAMES)  # registry names: a renamed page fails here, not silently
    assert set(run["exceptions"]) == set(PAGES)
    assert not any(run["exceptions"].values()), run["exceptions"]


@pytest.mark.parametrize("fault", ["read-only", "full", "missing"])
def test_a_storage_fault_turns_the_disk_caches_off_with_one_log_line(faulty_runs, fault):
    if fault not in faulty_runs:
        pytest.skip(f"the {fault} folder needs a tmpfs mount, which this machine refuses (not root, or no mount)")
    run = faulty_runs[fault]
    assert run["disk"]["on"] is False
    expected = {"read-only": "Read-only file system" if os.geteuid() == 0 else "Permission denied",
                "full": "No space left", "missing": "Not a directory"}[fault]
    assert expected in run["disk"]["problem"], run["disk"]
    assert run["log"].count("disk caches off for this process") == 1, run["log"][-3000:]


def test_corrupted_entries_are_replaced_not_read_again(faulty_runs):
    run = faulty_runs["corrupted"]
    assert run["disk"]["on"] is True, run["disk"]
    planted = run["planted"]
    assert run["disk"]["replaced"] >= sum(p.suffix == ".npz" for p in planted), run["disk"]
    # Every planted file is gone or holds a rebuilt entry: the next start reads none of them.
    still_garbage = [p.name for p in planted if p.exists() and p.read_bytes() == GARBAGE]
    assert not still_garbage, still_garbage
    assert sorted((Path(run["disk"]["results"])).glob("*.npz")), "the results were not written again"


# ------------------------------------------------------------------ the result cache alone, in this process
@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """caches with its disk on, its results in ``tmp_path`` and JAX's compile cache left as it is."""
    monkeypatch.setattr(runtime, "_disk_problem", None)
    monkeypatch.setattr(runtime, "_replaced_entries", 0)
    monkeypatch.setattr(optimizers, "disable_persistent_cache", lambda problem: None)
    monkeypatch.setattr(optimizers, "persistent_cache_problem", lambda: None)
    caches.clear_memory()
    yield tmp_path
    caches.clear_memory()


def compute_once(key) -> tuple[np.ndarray, bool]:
    return caches.disk_cached("fault", (key,), lambda: np.arange(3.0), np.ndarray)


def test_a_full_disk_returns_the_value_and_turns_the_disk_off(isolated, monkeypatch):
    folder = isolated / "full"
    if mount_tmpfs(folder, "size=16k,mode=0700"):
        try:
            (folder / "results").mkdir(mode=0o700)
            with contextlib.suppress(OSError):  # fill it to the last block
                with open(folder / "filler", "wb") as f:
                    while True:
                        f.write(b"x" * 4096)
                        f.flush()
            monkeypatch.setattr(caches, "RESULTS_DIR", str(folder / "results"))
            value, hit = compute_once("full")
        finally:
            unmount(folder)
    else:  # no mount here: the write fails as a full disk makes it fail
        monkeypatch.setattr(caches, "RESULTS_DIR", str(isolated / "results"))

        def no_space(*args, **kwargs):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(caches.tempfile, "mkstemp", no_space)
        value, hit = compute_once("full")
    assert (value.tolist(), hit) == ([0.0, 1.0, 2.0], False)
    status = caches.disk_status()
    assert status["on"] is False and "No space left" in status["problem"], status
    caches.clear_memory()
    assert compute_once("full")[1] is False  # disk off: computed again, no error


def test_a_result_folder_that_turns_read_only_returns_the_value(isolated, monkeypatch):
    """results/ exists (an earlier run made it), then its filesystem turns read-only: the lock file cannot be made."""
    folder = isolated / "ro"
    results = folder / "results"
    if os.geteuid() == 0:
        if not mount_tmpfs(folder, "size=64k"):
            pytest.skip("root ignores permission bits and this machine refuses a tmpfs mount")
        results.mkdir(mode=0o700)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    else:
        results.mkdir(parents=True, mode=0o700)
        results.chmod(0o500)
    try:
        monkeypatch.setattr(caches, "RESULTS_DIR", str(results))
        value, hit = compute_once("ro")
    finally:
        if os.geteuid() == 0:
            unmount(folder)
        else:
            results.chmod(0o700)
    assert (value.tolist(), hit) == ([0.0, 1.0, 2.0], False)
    status = caches.disk_status()
    expected = "Read-only file system" if os.geteuid() == 0 else "Permission denied"
    assert status["on"] is False and expected in status["problem"], status


def test_a_corrupted_result_file_is_rebuilt_and_then_read(isolated, monkeypatch):
    monkeypatch.setattr(caches, "RESULTS_DIR", str(isolated / "results"))
    compute_once("corrupt")
    (path,) = (isolated / "results").glob("fault-*.npz")
    path.write_bytes(GARBAGE)
    caches.clear_memory()
    value, hit = compute_once("corrupt")
    assert (value.tolist(), hit) == ([0.0, 1.0, 2.0], False)
    assert path.read_bytes() != GARBAGE and caches.disk_status()["replaced"] == 1
    caches.clear_memory()
    assert compute_once("corrupt")[1] is True  # the rebuilt file is read
    assert caches.disk_status()["on"] is True


def test_a_missing_uncreatable_folder_leaves_the_compile_cache_off(tmp_path):
    regular_file = tmp_path / "file"
    regular_file.write_text("x")
    script = ("import optimizers; d = optimizers.enable_persistent_cache(); "
              "import jax; print(jax.jit(lambda x: x * 2)(3), optimizers.persistent_cache_problem())")
    env = dict(os.environ, ERROR_SURFACE_LAB_CACHE=str(regular_file / "jax"), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "6" and "Not a directory" in done.stdout
