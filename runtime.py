"""The process's JAX runtime: the persistent compile cache in the lab's cache folder, its bounds, its storage faults.

Importing this module changes nothing: ``set_up()`` does the work, once per
process, before anything compiles. The entry point (``app.py``) calls it
before navigation, each heavy-run worker (``heavy_runs``) when it starts,
the test suite's ``conftest.py`` and the bench scripts that measure the app
as it runs. Later calls return at once.

**The cache folder** is ``$ERROR_SURFACE_LAB_CACHE`` (default
``~/.cache/error-surface-lab/jax``), read by ``set_up``: JAX's compiled code
is kept in it, bounded to ``COMPILE_CACHE_MAX_BYTES`` (JAX evicts the least
recently used entries; ``tolerate_entries_without_access_time`` keeps one
entry that lost its access time from stopping every later write), and the
result store (``caches``) keeps its files in its ``results/`` folder.

**Storage faults** cost speed, never a page: a folder that fails the start
check, a compiled entry that cannot be written, or a result that cannot be
stored turns both disk caches off for the process (``disable_disk``); an
unreadable entry is removed and rebuilt (``entry_replaced``).

**Compiled code in memory**: JAX keeps one executable per combination of
static arguments for the life of the process, so ``trim_compile_caches``
clears each compiled function of the model packages once it holds
``MAX_EXECUTABLES``; the entry point calls it before every page.
"""
from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
import threading
from pathlib import Path

COMPILE_CACHE_MAX_BYTES = 512 * 2**20
CACHE_ENV = "ERROR_SURFACE_LAB_CACHE"

_folder: str | None = None  # the cache folder set_up configured (None: not set up in this process)
_SET_UP = threading.Lock()


def configured_folder(environ=os.environ) -> str:
    """``$ERROR_SURFACE_LAB_CACHE``, default ~/.cache/error-surface-lab/jax: the folder ``set_up`` will use."""
    return environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "error-surface-lab", "jax")


def set_up() -> str:
    """Switch on JAX's persistent compile cache in the cache folder, bounded and guarded; returns the folder.

    Once per process (later calls return the folder at once), before the
    first compile: JAX decides whether a process uses its disk cache at its
    first compile. A folder that cannot be created or written leaves both
    disk caches off (``disable_disk``) instead of raising.
    """
    global _folder
    with _SET_UP:
        if _folder is not None:
            return _folder
        import optimizers  # here, not at the top: importing this module does nothing

        tolerate_entries_without_access_time()
        guard_compile_cache_io()
        folder = optimizers.enable_persistent_cache(configured_folder(), max_size=COMPILE_CACHE_MAX_BYTES)
        problem = optimizers.persistent_cache_problem()
        _folder = folder
    if problem:  # the folder failed its start check: results stay off the disk too
        disable_disk(problem)
    return folder


def is_set_up() -> bool:
    return _folder is not None


def cache_folder() -> str:
    """The cache folder: the one ``set_up`` configured, or (not set up) the one it would configure."""
    return _folder or configured_folder()


# --------------------------------------------------------------------------- the persistent compile cache's eviction
def repair_access_times(folder) -> int:
    """Give each JAX cache entry ``<key>-cache`` in ``folder`` that has no ``<key>-atime`` one: the oldest time.

    Returns how many were repaired; they are then the first evicted.
    """
    repaired = 0
    for entry in Path(folder).glob("*-cache"):
        atime = entry.with_name(entry.name[: -len("-cache")] + "-atime")
        if not atime.exists():
            with contextlib.suppress(FileNotFoundError):  # another process evicted it meanwhile
                atime.write_bytes((0).to_bytes(8, "little"))
                repaired += 1
    return repaired


def tolerate_entries_without_access_time() -> bool:
    """Make JAX's LRU eviction survive a cache entry without its access-time file.

    Cause (jax/_src/lru_cache.py, ``LRUCache``): ``put`` writes ``<key>-cache``
    and then ``<key>-atime`` (under a file lock, so processes do not race), and
    ``_evict_if_needed`` reads the ``-atime`` of every ``-cache`` file. A
    process stopped between the two writes (a test run's timeout, Ctrl-C, a
    killed worker), or one writing with eviction off (``max_size`` −1, which
    writes no ``-atime``), leaves an entry without one; from then on every
    eviction — every write of a new entry, in every process sharing the
    folder — raises FileNotFoundError, logged as "Error writing persistent
    compilation cache entry … -atime", and the cache neither grows nor shrinks
    (reproduced: one such entry, 42 of 42 writes failed). Here eviction gives
    such entries the oldest time and evicts them first. JAX calls eviction
    holding its lock, so the repair cannot race another process. Returns
    whether the hook is in place (False if JAX's private module has moved).
    """
    try:
        from jax._src import lru_cache
        evict = lru_cache.LRUCache._evict_if_needed
    except (ImportError, AttributeError):
        return False
    if getattr(evict, "tolerates_lost_access_times", False):
        return True

    def evict_tolerating_lost_access_times(self, *, additional_size: int = 0) -> None:
        try:
            evict(self, additional_size=additional_size)
        except FileNotFoundError:
            repair_access_times(self.path)
            evict(self, additional_size=additional_size)

    evict_tolerating_lost_access_times.tolerates_lost_access_times = True
    lru_cache.LRUCache._evict_if_needed = evict_tolerating_lost_access_times
    return True


# --------------------------------------------------------------------------- storage faults: degrade, never crash
log = logging.getLogger("error_surface_lab.caches")  # the name operators filter on, from before the split
_disk_problem: str | None = None  # why the disk caches are off in this process (None: they are on)
_replaced_entries = 0  # unreadable cache entries (results or compiled code) removed so that they are rebuilt
_DISK_GUARD = threading.Lock()


def disable_disk(problem: str) -> None:
    """Turn both disk caches (results and JAX's compiled code) off for the rest of this process, once, with a log line.

    A read-only, full or vanished cache folder must cost speed, never a page:
    from here on every result is recomputed and kept in memory only. The
    first problem is the one reported (``disk_problem``); a restart after the
    operator fixes the folder turns the caches on again.
    """
    global _disk_problem
    with _DISK_GUARD:  # two threads meeting the same full disk log it once
        if _disk_problem is not None:
            return
        _disk_problem = problem
    # A heavy run's worker process (heavy_runs) meets the same folder: the server process reports it, once.
    in_worker = multiprocessing.parent_process() is not None
    log.log(logging.INFO if in_worker else logging.WARNING,
            "disk caches off for this process, results are recomputed: %s", problem)
    import optimizers

    optimizers.disable_persistent_cache(problem)


def disk_on() -> bool:
    """Whether the disk caches are on in this process (``disable_disk`` has not been called)."""
    return _disk_problem is None


def disk_problem() -> str | None:
    """Why the disk caches are off in this process, or None while they are on."""
    if _disk_problem is not None:
        return _disk_problem
    optimizers = sys.modules.get("optimizers")  # not imported: its compile cache was never switched on or off
    return optimizers.persistent_cache_problem() if optimizers is not None else None


def entry_replaced(path, error: BaseException) -> None:
    """Remove an unreadable cache entry (the caller rebuilds it), counted and logged."""
    global _replaced_entries
    with contextlib.suppress(OSError):
        os.remove(path)
    _replaced_entries += 1
    log.warning("unreadable cache entry %s removed and rebuilt: %s: %s", path, type(error).__name__, error)


def replaced_entries() -> int:
    """Unreadable entries (a corrupted result file, a compiled entry that does not deserialize) removed and rebuilt."""
    return _replaced_entries


def guard_compile_cache_io() -> bool:
    """Make JAX's persistent compile cache rebuild an unreadable entry and stop writing to a failing disk.

    Cause (jax/_src/compiler.py, ``_cache_read`` / ``_cache_write``; lru_cache.py,
    ``LRUCache.put``): an entry that does not decompress or deserialize (a
    truncated write, a flipped bit) is logged and compiled again, but ``put``
    keeps any file already at that key, so the bad entry is read — and
    compiled around — on every start. Here a failed read removes the entry
    first, so the fresh compile is written in its place. A write that fails
    with an OSError (disk full, folder turned read-only) turns the disk
    caches off (``disable_disk``) instead of warning on every compile.
    Returns whether the hooks are in place (False if JAX's private module has moved).
    """
    try:
        from jax._src import compilation_cache
        read, write = compilation_cache.get_executable_and_time, compilation_cache.put_executable_and_time
    except (ImportError, AttributeError):
        return False
    if getattr(read, "rebuilds_unreadable_entries", False):
        return True

    def read_rebuilding_unreadable_entries(cache_key, *args, **kwargs):
        try:
            return read(cache_key, *args, **kwargs)
        except TimeoutError:
            raise  # another process holds JAX's cache lock: JAX logs it and compiles, the disk is fine
        except OSError as error:  # the folder, not the entry (gone, turned read-only): JAX compiles
            disable_disk(f"reading compiled code: {error.strerror or error}")
            raise
        except Exception as error:  # noqa: BLE001 - zstd, XLA and parsing errors alike mean an unusable entry
            folder = compilation_cache._cache._path if compilation_cache._cache is not None else None
            if folder is not None:
                entry_replaced(Path(folder) / f"{cache_key}-cache", error)
                with contextlib.suppress(OSError):
                    os.remove(Path(folder) / f"{cache_key}-atime")
            raise

    def write_or_turn_disk_off(*args, **kwargs):
        try:
            return write(*args, **kwargs)
        except OSError as error:
            disable_disk(f"writing compiled code: {error.strerror or error}")

    read_rebuilding_unreadable_entries.rebuilds_unreadable_entries = True
    compilation_cache.get_executable_and_time = read_rebuilding_unreadable_entries
    compilation_cache.put_executable_and_time = write_or_turn_disk_off
    return True


# --------------------------------------------------------------------------- bounded compile caches in memory
# JAX keeps one executable per combination of static arguments for the life of
# the process. Here those come from registries (bounded) and a few integers
# (batch size, epochs, step buckets); typed formulas add none since they run on
# the shared interpreter (surfaces.interpreter), but a class running every
# configuration for an hour would still grow memory, so each compiled function
# of the model packages is cleared when it holds more than MAX_EXECUTABLES; the
# persistent cache on disk makes the recompiles that follow cheap.
# The measurements behind 24 (bench/bench_formula_memory.py) are in docs/design.md (Caching) and docs/memory.md.
MAX_EXECUTABLES = 24
MODEL_PACKAGES = ("surfaces", "optimizers", "networks")

_compiled: tuple[int, list] = (-1, [])  # (how many modules were loaded, what they held) — found once per import


def compiled_functions() -> list:
    """Every ``jax.jit`` function defined at module level in the model packages.

    Looked for again only when a module has been imported since: this runs on
    every page run, and a scan of all modules is most of its cost.
    """
    global _compiled
    loaded = len(sys.modules)
    if _compiled[0] != loaded:
        found = {}
        for name, module in list(sys.modules.items()):
            if module is not None and name.split(".")[0] in MODEL_PACKAGES:
                # A copy: another session's thread may be importing this module (its namespace still filling) or
                # one of its submodules (an attribute added to the package) — "dictionary changed size during iteration".
                for value in list(vars(module).values()):
                    if callable(getattr(value, "clear_cache", None)) and callable(getattr(value, "_cache_size", None)):
                        found[id(value)] = value
        _compiled = (loaded, list(found.values()))
    return _compiled[1]


def trim_compile_caches(limit: int = MAX_EXECUTABLES) -> int:
    """Clear each compiled function's executables once it holds more than ``limit``; returns how many were cleared."""
    cleared = 0
    for fn in compiled_functions():
        if fn._cache_size() > limit:
            fn.clear_cache()
            cleared += 1
    return cleared
