"""One memory budget for every cache of the server, set by the operator, enforced in bytes.

``ERROR_SURFACE_LAB_MEMORY_MB`` (default ``DEFAULT_BUDGET_MB``) is what all
caches together may hold. It is divided among the caches by ``SHARES``, by
what they hold: the page caches of ``compute`` (grids, runs, analyses), the
rendered surfaces of ``figures`` (pictures), the charts' serialized figures
shared by the sessions that ask for one page state (charts) and the in-memory
copies of ``caches.disk_cached`` results (trained networks, studies). Each cache measures every entry it keeps (``nbytes``: the arrays'
bytes summed over NamedTuples, tuples, lists and dicts, plus a fixed cost per
entry for its key and containers) and, when a new entry would pass its share,
drops the least recently used entries first — the ones no session has asked
for the longest.

Why not ``st.cache_data(max_entries=...)``: Streamlit bounds a cache's
*count*, and one entry may be 5 KB (a loss at a point) or 50 MB (a 2-D slice
of a trained network), so no count bounds the bytes; and its caches cannot be
measured from the page (``/_stcore/metrics`` counts pickled sizes only).

This module imports only NumPy: the model packages and benches may use it.
"""
from __future__ import annotations

import collections
import functools
import inspect
import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import NamedTuple

import numpy as np

BUDGET_ENV = "ERROR_SURFACE_LAB_MEMORY_MB"
# Fits a 2 GB machine: the interpreter with JAX, Streamlit and the compiled code of every page takes
# about 0.5-0.8 GB before any cache holds anything (docs/memory.md).
DEFAULT_BUDGET_MB = 600
ENTRY_OVERHEAD = 512  # bytes counted per entry besides its arrays: key, tuples, the LRU's node
# cache name -> share of the budget, by what each holds (docs/memory.md).
SHARES = {
    "grids": 0.22,        # surface grids and zoomed grids, loss maps, slices of trained networks
    "runs": 0.22,         # trajectories, races, escapes, SGD runs: (n, steps, 2) paths and their curves
    "analysis": 0.08,     # points, critical sets, local quadratics, curves of schedules: small and many
    "pictures": 0.08,     # figures' rendered surfaces: a map's PNG, contour lines and click lattice per grid
    "results": 0.34,      # caches.disk_cached in memory: trained networks, spectra, studies
    "charts": 0.06,       # controls.render_once: a chart's serialized figure per page state, shared by sessions
}


def budget_bytes(environ=os.environ) -> int:
    """The operator's budget in bytes: ``ERROR_SURFACE_LAB_MEMORY_MB``, or the default if unset or not a number > 0."""
    raw = environ.get(BUDGET_ENV, "")
    try:
        mb = float(raw)
    except ValueError:
        mb = DEFAULT_BUDGET_MB
    if not (mb > 0 and np.isfinite(mb)):
        mb = DEFAULT_BUDGET_MB
    return int(mb * 2**20)


def _buffer_owner(array: np.ndarray):
    """The object whose memory ``array`` views: the end of its ``base`` chain (itself if it owns its data)."""
    owner = array
    while isinstance(owner, np.ndarray) and owner.base is not None:
        owner = owner.base
    return owner


def _held_bytes(array: np.ndarray) -> int:
    """The bytes ``array`` keeps alive: its owner's buffer, which for a slice or a transposed view is more than
    its own ``nbytes`` (``np.asarray`` of a JAX result views the whole padded buffer of the compiled call)."""
    owner = _buffer_owner(array)
    if owner is array:
        return int(array.nbytes)
    try:
        held = owner.nbytes if isinstance(owner, np.ndarray) else memoryview(owner).nbytes
    except TypeError:  # an owner without a buffer interface: count the view
        held = 0
    return max(int(array.nbytes), int(held))


def nbytes(value, _seen: set | None = None) -> int:
    """What ``value`` holds, in bytes: arrays' buffers summed through NamedTuples, tuples, lists and dicts.

    An array that views another's memory counts that whole buffer, once per
    value (two views of one buffer count it once). Strings, numbers and other
    leaves count their ``sys.getsizeof``; an object of another kind counts its
    instance dictionary, so a record holding arrays is not taken for empty.
    """
    seen = set() if _seen is None else _seen
    if isinstance(value, np.ndarray):
        owner = _buffer_owner(value)
        if owner is not value:
            if id(owner) in seen:
                return 0
            seen.add(id(owner))
        return _held_bytes(value)
    if isinstance(value, (tuple, list)):
        return sys.getsizeof(value) + sum(nbytes(v, seen) for v in value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(nbytes(k, seen) + nbytes(v, seen) for k, v in value.items())
    if hasattr(value, "nbytes") and isinstance(value.nbytes, (int, np.integer)):
        return int(value.nbytes)  # a JAX array or a NumPy scalar
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return sys.getsizeof(value) + nbytes(vars(value), seen)
    return sys.getsizeof(value)


def compact(value):
    """``value`` with every array that views a larger or foreign buffer replaced by a copy of what it shows.

    Why: a page function's result is often a slice of a compiled call's output
    (``np.asarray`` of a JAX array views its buffer without a copy, and the
    runner pads steps and batch to fixed sizes), so a cached (n, steps, 2)
    path kept the whole padded XLA buffer and its JAX array alive. The copy
    owns exactly what is shown, so the cache counts (``nbytes``) what it keeps.
    NamedTuples, tuples, lists and dicts are rebuilt around the copies; other
    objects are returned as they are.
    """
    if isinstance(value, np.ndarray):
        return value if _held_bytes(value) <= value.nbytes and isinstance(_buffer_owner(value), np.ndarray) \
            else np.array(value)
    if isinstance(value, (tuple, list)):
        items = [compact(v) for v in value]
        if all(a is b for a, b in zip(items, value)):
            return value
        if isinstance(value, list):
            return items
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if isinstance(value, dict):
        items = {k: compact(v) for k, v in value.items()}
        return value if all(items[k] is v for k, v in value.items()) else items
    return value


# --------------------------------------------------------------------------- the C heap (glibc's malloc)
MMAP_THRESHOLD = 256 * 1024  # bytes: a block this large or larger gets pages of its own, given back when freed
_MALLOC_TUNED: list[bool] = []


def tune_malloc(threshold: int = MMAP_THRESHOLD, environ=os.environ) -> bool:
    """Once per process: glibc's malloc maps blocks of ``threshold`` bytes or more on their own; True if set.

    Why: glibc starts with a 128 kB mmap threshold and *raises* it (up to 32
    MB) each time such a mapped block is freed, so after a few page runs
    every multi-megabyte temporary of a run (a figure's JSON, a protobuf
    message, a PNG, a NumPy intermediate) was carved from the heap instead,
    and heap memory freed between live blocks stays with the process. Under
    fresh values that "free but held" memory grew with every change and was
    most of the server's growth (docs/memory.md: ``bench/memory_owners.py
    --objects``, mallinfo's free bytes, against the same run with
    ``MALLOC_MMAP_THRESHOLD_`` set). Setting the threshold fixes it (glibc
    then stops moving it, and the trim threshold with it). An operator's own
    ``MALLOC_MMAP_THRESHOLD_`` wins; on another C library this does nothing.
    """
    if _MALLOC_TUNED:
        return _MALLOC_TUNED[0]
    done = False
    if "MALLOC_MMAP_THRESHOLD_" not in environ:
        try:
            import ctypes

            libc = ctypes.CDLL(None)
            if hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "mallopt"):
                done = bool(libc.mallopt(-3, int(threshold)))  # -3: M_MMAP_THRESHOLD (malloc.h)
        except (OSError, AttributeError):
            done = False
    _MALLOC_TUNED.append(done)
    return done


_FROZEN: list[bool] = []
_FREEZE_LOCK = threading.Lock()


def freeze_startup_objects(preload: Callable[[], Iterable[str]] = tuple) -> bool:
    """Once per process: collect, then move every object alive now into the collector's permanent generation.

    Why: the server starts with a few million objects (JAX, Streamlit, Plotly,
    NumPy and their modules) that live as long as it does. Python runs a full
    collection only when the objects promoted since the last one reach a
    quarter of the old generation, so with all of those in it the cyclic
    garbage that page runs leave behind (a run's frames, figures and
    elements) piled up for hundreds of runs between two full collections: the
    server's memory rose and fell by tens of megabytes, and every full
    collection walked all the startup objects (Streamlit's ``postScriptGC`` is
    off here for that cost: .streamlit/config.toml). Frozen, they are neither
    walked nor counted: full collections come sooner and cost less
    (``gc.freeze``, Python's advice for a process that has finished loading).
    ``preload``: the modules pages will import (``app_pages.imported_modules``), imported first so that they are
    frozen too; one a page imported only later would sit in the old generation and bring the pile-up back.
    Called by the entry point in every run; True the one time it froze.
    """
    if _FROZEN:
        return False
    with _FREEZE_LOCK:  # two sessions' first runs may come at once
        if _FROZEN:
            return False
        import gc
        import importlib

        for module in preload():
            importlib.import_module(module)
        gc.collect()
        gc.freeze()
        gc.collect()  # counts the old generation again, now without the frozen: the next full collection comes soon
        _FROZEN.append(True)
    return True


class CacheUse(NamedTuple):
    """One cache's state, for the Home page's diagnostics."""

    name: str
    share: float
    limit: int  # bytes
    used: int  # bytes
    entries: int


class BoundedCache:
    """A thread-safe least-recently-used map bounded by the bytes of its entries.

    ``limit`` is a callable so that a changed budget (a test, an operator's
    restart with another value read at import) applies to the next insertion.
    An entry larger than the whole limit is returned to its caller but not kept.
    """

    def __init__(self, name: str, limit: Callable[[], int]):
        self.name = name
        self._limit = limit
        self._entries: collections.OrderedDict = collections.OrderedDict()  # key -> (value, size)
        self._used = 0
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        return int(self._limit())

    @property
    def used(self) -> int:
        return self._used

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key) -> bool:
        return key in self._entries

    def get(self, key, default=None):
        """The value under ``key`` (now the most recently used), or ``default``."""
        with self._lock:
            item = self._entries.get(key)
            if item is None:
                return default
            self._entries.move_to_end(key)
            return item[0]

    def put(self, key, value) -> bool:
        """Keep ``value`` under ``key``, dropping least recently used entries to stay within the limit.

        Returns whether it was kept (False for an entry larger than the limit).
        """
        size = nbytes(value) + nbytes(key) + ENTRY_OVERHEAD
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._used -= old[1]
            limit = self.limit
            if size > limit:
                return False
            while self._entries and self._used + size > limit:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._used -= dropped
            self._entries[key] = (value, size)
            self._used += size
            return True

    def shrink(self) -> None:
        """Drop least recently used entries until within the (possibly lowered) limit."""
        with self._lock:
            limit = self.limit
            while self._entries and self._used > limit:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._used -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._used = 0


_BUDGET = [budget_bytes()]  # read once, at import: the operator sets it before the server starts


def budget() -> int:
    """The budget in bytes this process works with."""
    return _BUDGET[0]


def set_budget(total: int) -> None:
    """Use ``total`` bytes from now on (tests; an operator sets the environment variable instead)."""
    _BUDGET[0] = int(total)
    for cache in CACHES.values():
        cache.shrink()


def share_limit(name: str) -> Callable[[], int]:
    return lambda: int(budget() * SHARES[name])


CACHES: dict[str, BoundedCache] = {name: BoundedCache(name, share_limit(name)) for name in SHARES}


def usage() -> list[CacheUse]:
    """Every cache's share, limit, bytes used and entries."""
    return [CacheUse(c.name, SHARES[c.name], c.limit, c.used, len(c)) for c in CACHES.values()]


def used() -> int:
    """Bytes all caches hold together."""
    return sum(c.used for c in CACHES.values())


def freeze(value):
    """Make every array in ``value`` read-only: a cached result is shared by every session, never edited."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, (tuple, list)):
        for v in value:
            freeze(v)
    elif isinstance(value, dict):
        for v in value.values():
            freeze(v)
    return value


def cached(cache: str) -> Callable[[Callable], Callable]:
    """Memoize a function of plain values (names, numbers, tuples, NamedTuples of those) in cache ``cache``.

    Like ``st.cache_data``, the key is the function and its arguments bound to
    its signature (defaults filled in), compared by value; unlike it, every
    caller gets the same object back (not a copy: arrays are made read-only)
    and the cache is bounded by bytes. One computation per key at a time: the
    sessions asking for a key being computed wait for it and share it.
    The wrapper's ``clear()`` forgets this function's entries.
    """
    store = CACHES[cache]

    def decorate(fn: Callable) -> Callable:
        signature = inspect.signature(fn)
        name = f"{fn.__module__}.{fn.__qualname__}"
        locks: dict = {}
        guard = threading.Lock()

        def key_of(args, kwargs) -> tuple:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            # repr: floats and nested tuples compare by value, and an unhashable or NaN argument still finds itself
            return name, repr(tuple(bound.arguments.items()))

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            key = key_of(args, kwargs)
            missing = object()
            found = store.get(key, missing)
            if found is not missing:
                return found
            with guard:
                lock = locks.setdefault(key, threading.Lock())
            with lock:
                found = store.get(key, missing)
                if found is missing:
                    found = freeze(compact(fn(*args, **kwargs)))
                    store.put(key, found)
            with guard:
                locks.pop(key, None)
            return found

        def clear() -> None:
            with store._lock:
                for k in [k for k in store._entries if k[0] == name]:
                    store._used -= store._entries.pop(k)[1]

        wrapper.clear = clear
        wrapper.cache = store
        return wrapper

    return decorate



COLLECTION_PERIOD_S = 5.0  # the most seconds of a class's cyclic garbage the server holds before it collects it
_LAST_COLLECTION = [0.0]
_COLLECTION_LOCK = threading.Lock()


def collect_garbage_now_and_then() -> bool:
    """A full garbage collection when the last one is ``COLLECTION_PERIOD_S`` old; True when this call made one.

    Why: a page run leaves its figures, frames and elements in reference
    cycles, which only a full collection frees. Python starts one when the
    objects promoted since the last reach a quarter of the old generation, so
    when it comes depends on the history of the process: under a class the
    server's memory rose and fell by about a hundred megabytes, and read at
    any moment it held a varying pile of garbage (issue 24). Collected by the
    clock instead, the pile is bounded by what a class leaves in a few
    seconds. Streamlit's own collection after every run (``postScriptGC``) is
    off here: with forty students it ran several times a second. With the
    startup objects frozen (:func:`freeze_startup_objects`) a collection walks
    only what runs made. Called by the entry point at the start of every run.
    """
    import gc
    import time

    now = time.monotonic()
    if now - _LAST_COLLECTION[0] < COLLECTION_PERIOD_S or not _COLLECTION_LOCK.acquire(blocking=False):
        return False
    try:
        _LAST_COLLECTION[0] = now
        gc.collect()
    finally:
        _COLLECTION_LOCK.release()
    return True
