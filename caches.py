"""The lab's caches outside Streamlit: the on-disk result cache and the bounds on JAX's compile caches.

**Results** (trained networks, spectra, studies) are kept in memory and in
``RESULTS_DIR`` = ``<cache folder>/results`` (created private, 0700), so a
restarted server or a second server process reuses them. A file there holds
only plain arrays and numbers: one ``.npz`` (loaded with
``allow_pickle=False``) whose JSON entry describes the structure — tuples,
lists, dicts, strings, numbers and NamedTuples of the expected result type —
and whose other entries are the arrays. Nothing in a cache file can run code:
a file that does not load into the expected type (a planted pickle, another
type, a type that has since gained a field) is a miss and is recomputed.
Keys carry ``SCHEMA_VERSION`` and the expected type's field names.

One computation per key at a time: the threads of a process wait on a lock
per key and reuse what the first one made; processes sharing the folder wait
on a file lock (``fcntl.flock``) per key and then read the file the first one
wrote. Temporary files are unique, and eviction tolerates files another
process removed first.

**Compiled code**: JAX keeps one executable per combination of static
arguments for the life of the process, so ``trim_compile_caches`` clears
each compiled function of the model packages once it holds
``MAX_EXECUTABLES``. The persistent compilation cache
on disk is bounded to ``COMPILE_CACHE_MAX_BYTES`` (JAX evicts the least
recently used entries; ``tolerate_entries_without_access_time`` keeps one
entry that lost its access time from stopping every later write).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import multiprocessing
import os
import sys
import tempfile
import threading
import types
import typing
from pathlib import Path
from typing import Callable

import numpy as np

import memory_budget
import optimizers

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
log = logging.getLogger("error_surface_lab.caches")
_disk_problem: str | None = None  # why the disk caches are off in this process (None: they are on)
_replaced_entries = 0  # unreadable cache entries (results or compiled code) removed so that they are rebuilt
_DISK_GUARD = threading.Lock()


def disable_disk(problem: str) -> None:
    """Turn both disk caches (results and JAX's compiled code) off for the rest of this process, once, with a log line.

    A read-only, full or vanished cache folder must cost speed, never a page:
    from here on every result is recomputed and kept in memory only. The
    first problem is the one reported (``disk_status``); a restart after the
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
    optimizers.disable_persistent_cache(problem)


def _entry_replaced(path, error: BaseException) -> None:
    """Remove an unreadable cache entry (the caller rebuilds it), counted and logged."""
    global _replaced_entries
    with contextlib.suppress(OSError):
        os.remove(path)
    _replaced_entries += 1
    log.warning("unreadable cache entry %s removed and rebuilt: %s: %s", path, type(error).__name__, error)


def disk_status() -> dict:
    """Plain values for the home page's diagnostics: the folders, whether the disk caches are on, and why not.

    ``replaced``: unreadable entries (a corrupted result file, a compiled
    entry that does not deserialize) removed and rebuilt by this process.
    """
    problem = _disk_problem or optimizers.persistent_cache_problem()
    return {"folder": CACHE_DIR, "results": RESULTS_DIR, "on": problem is None, "problem": problem,
            "replaced": _replaced_entries}


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
                _entry_replaced(Path(folder) / f"{cache_key}-cache", error)
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


SCHEMA_VERSION = 2  # raise when the encoding below changes; a result type's fields are part of the key anyway
COMPILE_CACHE_MAX_BYTES = 512 * 2**20
tolerate_entries_without_access_time()
guard_compile_cache_io()
CACHE_DIR = optimizers.enable_persistent_cache(max_size=COMPILE_CACHE_MAX_BYTES)
RESULTS_DIR = os.path.join(CACHE_DIR, "results")
if optimizers.persistent_cache_problem():  # the folder failed its start check: results stay off the disk too
    disable_disk(optimizers.persistent_cache_problem())
MAX_RESULT_FILES = 256  # on disk; the oldest are removed beyond this
SUFFIX = ".npz"


# --------------------------------------------------------------------------- encoding: plain arrays and JSON
def _named_tuples(expected: type, found: dict | None = None) -> dict[str, type]:
    """Every NamedTuple class reachable from ``expected`` through field annotations: the only classes a file may name."""
    found = {} if found is None else found
    for hint in _hints(expected):
        if isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields"):
            if hint.__qualname__ not in found:
                found[hint.__qualname__] = hint
                for field_hint in typing.get_type_hints(hint, vars(sys.modules[hint.__module__])).values():
                    _named_tuples(field_hint, found)
    return found


def _hints(hint) -> list:
    """``hint`` and the types inside it (``tuple[float, float]``, ``X | None``)."""
    out = [hint]
    for arg in typing.get_args(hint):
        out += _hints(arg)
    return out


def encode(value) -> tuple[dict, list[np.ndarray]]:
    """(JSON-able structure, arrays) for a result made of NamedTuples, tuples, lists, dicts, arrays and numbers.

    Raises TypeError for anything else (an object array, a function): such a result is not cached on disk.
    """
    arrays: list[np.ndarray] = []

    def walk(v):
        if isinstance(v, (np.ndarray, np.generic)):
            a = np.asarray(v)
            if a.dtype.hasobject:
                raise TypeError("object arrays are not cached")
            arrays.append(a)
            return {"array": len(arrays) - 1, "scalar": isinstance(v, np.generic)}
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, tuple) and hasattr(v, "_fields"):
            return {"named": type(v).__qualname__, "fields": {f: walk(getattr(v, f)) for f in v._fields}}
        if isinstance(v, tuple):
            return {"tuple": [walk(x) for x in v]}
        if isinstance(v, list):
            return {"list": [walk(x) for x in v]}
        if isinstance(v, dict) and all(isinstance(k, str) for k in v):
            return {"dict": {k: walk(x) for k, x in v.items()}}
        raise TypeError(f"cannot cache a {type(v).__name__}")

    return walk(value), arrays


def decode(tree, arrays: dict[str, np.ndarray], classes: dict[str, type]):
    """The inverse of ``encode``; a NamedTuple must be one of ``classes`` with exactly its fields (else ValueError)."""
    def walk(v):
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if not isinstance(v, dict) or len(v) not in (1, 2):
            raise ValueError("not a cached structure")
        if "array" in v:
            a = arrays[f"a{int(v['array'])}"]
            return a[()] if v.get("scalar") else a
        if "named" in v:
            cls = classes.get(v["named"])
            fields = v.get("fields")
            if cls is None or not isinstance(fields, dict) or tuple(fields) != cls._fields:
                raise ValueError(f"{v['named']!r} is not the expected result type")
            return cls(**{f: walk(x) for f, x in fields.items()})
        (kind, items), = v.items()
        if kind == "tuple" and isinstance(items, list):
            return tuple(walk(x) for x in items)
        if kind == "list" and isinstance(items, list):
            return [walk(x) for x in items]
        if kind == "dict" and isinstance(items, dict):
            return {str(k): walk(x) for k, x in items.items()}
        raise ValueError("not a cached structure")

    return walk(tree)


def conforms(value, hint) -> bool:
    """Whether ``value`` has the type ``hint`` names (NamedTuple fields checked against their annotations)."""
    origin = typing.get_origin(hint)
    if hint is typing.Any or hint is object:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, h) for h in typing.get_args(hint))
    if hint is type(None) or hint is None:
        return value is None
    if hint is float:
        return isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if hint is np.ndarray:
        return isinstance(value, (np.ndarray, np.generic))
    if isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields"):
        if type(value) is not hint:
            return False
        hints = typing.get_type_hints(hint, vars(sys.modules[hint.__module__]))
        return all(conforms(getattr(value, f), hints.get(f, typing.Any)) for f in hint._fields)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(conforms(v, args[0]) for v in value)
        return not args or (len(args) == len(value) and all(conforms(v, a) for v, a in zip(value, args)))
    if origin is list:
        args = typing.get_args(hint)
        return isinstance(value, list) and all(conforms(v, args[0]) for v in value) if args else isinstance(value, list)
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def write_result(path: str, key_text: str, value) -> None:
    """``value`` as one .npz at ``path`` (through a unique temporary file and an atomic rename)."""
    tree, arrays = encode(value)
    header = json.dumps({"schema": SCHEMA_VERSION, "key": key_text, "value": tree}).encode()
    buffer = io.BytesIO()
    np.savez(buffer, tree=np.frombuffer(header, np.uint8), **{f"a{i}": a for i, a in enumerate(arrays)})
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(buffer.getvalue())
        os.replace(tmp, path)  # atomic: another process never reads half a file
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def read_result(path: str, key_text: str, expected):
    """The value stored at ``path`` if it is a result of type ``expected`` for this key; raises otherwise."""
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(bytes(npz["tree"]).decode())
        if header.get("schema") != SCHEMA_VERSION or header.get("key") != key_text:
            raise ValueError("another schema or key")
        arrays = {name: npz[name] for name in npz.files if name != "tree"}
    value = decode(header["value"], arrays, _named_tuples(expected))
    if not conforms(value, expected):
        raise ValueError(f"not a {expected}")
    return value


# --------------------------------------------------------------------------- one computation per key
# In memory: bounded by bytes, the "results" share of the operator's budget (memory_budget), least recently used
# first out; the disk is bounded by MAX_RESULT_FILES.
_RESULTS = memory_budget.CACHES["results"]
_MISSING = object()
_KEY_LOCKS: dict[tuple, threading.Lock] = {}
_GUARD = threading.Lock()
computations = 0  # how many times ``make`` ran in this process (for tests and benches)


def _type_signature(expected) -> str:
    """The expected type's name and every field of every NamedTuple in it: a changed type is another key."""
    return repr((getattr(expected, "__qualname__", repr(expected)),
                 sorted((name, cls._fields) for name, cls in _named_tuples(expected).items())))


def _key_lock(memory_key: tuple) -> threading.Lock:
    with _GUARD:
        return _KEY_LOCKS.setdefault(memory_key, threading.Lock())


def results_dir() -> str:
    """RESULTS_DIR, created private (0700); refuses a folder that is not this user's or that others may write."""
    os.makedirs(RESULTS_DIR, mode=0o700, exist_ok=True)
    info = os.stat(RESULTS_DIR, follow_symlinks=False)
    if os.path.islink(RESULTS_DIR) or info.st_uid != os.getuid():
        raise PermissionError(f"{RESULTS_DIR} is not a folder owned by this user")
    if info.st_mode & 0o077:
        os.chmod(RESULTS_DIR, 0o700)
    return RESULTS_DIR


@contextlib.contextmanager
def file_lock(path: str):
    """An exclusive ``flock`` on ``path`` (created if needed), held until the block ends.

    Eviction removes lock files too, so after taking the lock it checks that
    the file is still the one at ``path``; if another process removed it
    meanwhile, it locks the new one instead.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                return
        finally:
            os.close(fd)


def disk_cached(kind: str, key: tuple, make: Callable[[], object], expected) -> tuple[object, bool]:
    """``make()`` once per (kind, key) for this process and, through RESULTS_DIR, across processes and restarts.

    ``expected``: the result's type (a NamedTuple class or ``np.ndarray``);
    a file that does not load into it is recomputed. Returns (value, True if
    it came from a cache). Keys are full configurations (tuples of names and
    numbers), so a class that opens the same experiment computes it once.
    Not ``st.cache_data``: ``make`` may draw a progress bar.
    """
    memory_key = (kind, key)
    found = _RESULTS.get(memory_key, _MISSING)
    if found is not _MISSING:
        return found, True
    with _key_lock(memory_key):  # the other threads wanting this key wait here, then find it in memory
        found = _RESULTS.get(memory_key, _MISSING)
        if found is not _MISSING:
            return found, True
        value, cached = _through_disk(kind, key, make, expected)
        _RESULTS.put(memory_key, value)
        return value, cached


def _through_disk(kind: str, key: tuple, make: Callable[[], object], expected) -> tuple[object, bool]:
    """(value, True) from RESULTS_DIR, or (``make()``, False) written there; ``make()`` alone while the disk is off.

    Other processes wanting this key wait on its file lock, then read the
    file. A storage fault (the folder missing and uncreatable, read-only,
    full) turns the disk caches off (``disable_disk``) and the value is
    computed anyway; a file that exists but does not load (corrupted,
    truncated, another type) is removed and rebuilt. Errors of ``make``
    itself reach the caller.
    """
    global computations
    key_text = repr((SCHEMA_VERSION, kind, key, _type_signature(expected)))
    digest = hashlib.sha256(key_text.encode()).hexdigest()
    folder = path = None
    with contextlib.ExitStack() as locked:
        if _disk_problem is None:
            try:
                folder = results_dir()
                locked.enter_context(file_lock(os.path.join(folder, f"{kind}-{digest}.lock")))
                path = os.path.join(folder, f"{kind}-{digest}{SUFFIX}")
            except OSError as error:
                disable_disk(f"result folder {RESULTS_DIR}: {error.strerror or error}")
        if path is not None:
            try:
                return read_result(path, key_text, expected), True
            except FileNotFoundError:
                pass  # not computed yet
            except Exception as error:  # noqa: BLE001 - any file that does not load into the expected type
                _entry_replaced(path, error)
        computations += 1
        value = make()
        if path is not None and _disk_problem is None:
            try:
                write_result(path, key_text, value)
            except TypeError:
                pass  # not made of plain arrays and numbers: kept in memory only
            except OSError as error:
                disable_disk(f"writing a result to {folder}: {error.strerror or error}")
    if folder is not None and _disk_problem is None:
        try:
            evict(folder)
        except OSError as error:
            disable_disk(f"evicting results in {folder}: {error.strerror or error}")
    return value, False


def is_cached(kind: str, key: tuple) -> bool:
    """Whether (kind, key) is in this process's memory."""
    return (kind, key) in _RESULTS


def evict(folder: str, keep: int = MAX_RESULT_FILES) -> int:
    """Remove the oldest result files beyond ``keep`` (and their lock files); returns how many went.

    Another process may be evicting at the same time: a file that is already
    gone is skipped.
    """
    files = []
    for name in os.listdir(folder):
        if name.endswith(SUFFIX) and not name.startswith(".tmp-"):
            path = os.path.join(folder, name)
            try:
                files.append((os.path.getmtime(path), path))
            except FileNotFoundError:
                pass
    removed = 0
    for _, path in sorted(files)[:-keep] if len(files) > keep else []:
        for victim in (path, path[: -len(SUFFIX)] + ".lock"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(victim)
        removed += 1
    return removed


def clear_memory() -> None:
    """Forget the in-memory results (the files stay): what a restarted process sees."""
    _RESULTS.clear()


# --------------------------------------------------------------------------- bounded compile caches
# JAX keeps one executable per combination of static arguments for the life of
# the process. Here those come from registries (bounded) and a few integers
# (batch size, epochs, step buckets); typed formulas add none since they run on
# the shared interpreter (surfaces.interpreter), but a class running every
# configuration for an hour would still grow memory, so each compiled function
# of the model packages is cleared when it holds more than MAX_EXECUTABLES; the
# persistent cache on disk makes the recompiles that follow cheap.
# bench/bench_formula_memory.py, under load, when every typed formula was compiled (~10 MB each): with 128 kept
# per function a process grew 533 MB in 50 formulas, with 24 312 MB in 120; with the interpreter 204 MB in 300
# (the interpreter's own compiles, all done by the 25th formula).
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
