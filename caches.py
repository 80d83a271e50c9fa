"""The result store: results kept in memory and as plain-array files in the cache folder, one computation per key.

**Results** (trained networks, spectra, studies) are kept in memory and in
the cache folder's ``results/`` (``results_folder()``, created private,
0700), so a restarted server or a second server process reuses them. The
cache folder is the runtime's (``runtime.cache_folder()``, configured by
``runtime.set_up()``, which also switches on JAX's compile cache there). A
file there holds only plain arrays and numbers: one ``.npz`` (loaded with
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

A storage fault (the folder read-only, full, missing) turns the disk caches
off for the process (``runtime.disable_disk``) and the value is computed
anyway; ``disk_status()`` reports it. Importing this module changes nothing
on disk or in JAX.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import sys
import tempfile
import threading
import types
import typing
from collections.abc import Callable

import numpy as np

import memory_budget
import runtime

SCHEMA_VERSION = 2  # raise when the encoding below changes; a result type's fields are part of the key anyway
RESULTS_DIR: str | None = None  # None: results/ in the runtime's cache folder; set it to keep results elsewhere
MAX_RESULT_FILES = 256  # on disk; the oldest are removed beyond this
SUFFIX = ".npz"


def results_folder() -> str:
    """Where result files go: ``RESULTS_DIR``, or the cache folder's ``results/``."""
    return RESULTS_DIR or os.path.join(runtime.cache_folder(), "results")


def disk_status() -> dict:
    """Plain values for the home page's diagnostics: the folders, whether the disk caches are on, and why not.

    ``replaced``: unreadable entries (a corrupted result file, a compiled
    entry that does not deserialize) removed and rebuilt by this process.
    """
    problem = runtime.disk_problem()
    return {"folder": runtime.cache_folder(), "results": results_folder(), "on": problem is None,
            "problem": problem, "replaced": runtime.replaced_entries()}


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
    """``results_folder()``, created private (0700); refuses a folder not this user's or that others may write."""
    folder = results_folder()
    os.makedirs(folder, mode=0o700, exist_ok=True)
    info = os.stat(folder, follow_symlinks=False)
    if os.path.islink(folder) or info.st_uid != os.getuid():
        raise PermissionError(f"{folder} is not a folder owned by this user")
    if info.st_mode & 0o077:
        os.chmod(folder, 0o700)
    return folder


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
    """``make()`` once per (kind, key) for this process and, through ``results_folder()``, across processes too.

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
    """(value, True) from ``results_folder()``, or (``make()``, False) written there; ``make()`` alone, disk off.

    Other processes wanting this key wait on its file lock, then read the
    file. A storage fault (the folder missing and uncreatable, read-only,
    full) turns the disk caches off (``runtime.disable_disk``) and the value is
    computed anyway; a file that exists but does not load (corrupted,
    truncated, another type) is removed and rebuilt. Errors of ``make``
    itself reach the caller.
    """
    global computations
    key_text = repr((SCHEMA_VERSION, kind, key, _type_signature(expected)))
    digest = hashlib.sha256(key_text.encode()).hexdigest()
    folder = path = None
    with contextlib.ExitStack() as locked:
        if runtime.disk_on():
            try:
                folder = results_dir()
                locked.enter_context(file_lock(os.path.join(folder, f"{kind}-{digest}.lock")))
                path = os.path.join(folder, f"{kind}-{digest}{SUFFIX}")
            except OSError as error:
                runtime.disable_disk(f"result folder {results_folder()}: {error.strerror or error}")
        if path is not None:
            try:
                return read_result(path, key_text, expected), True
            except FileNotFoundError:
                pass  # not computed yet
            except Exception as error:  # noqa: BLE001 - any file that does not load into the expected type
                runtime.entry_replaced(path, error)
        computations += 1
        value = make()
        if path is not None and runtime.disk_on():
            try:
                write_result(path, key_text, value)
            except TypeError:
                pass  # not made of plain arrays and numbers: kept in memory only
            except OSError as error:
                runtime.disable_disk(f"writing a result to {folder}: {error.strerror or error}")
    if folder is not None and runtime.disk_on():
        try:
            evict(folder)
        except OSError as error:
            runtime.disable_disk(f"evicting results in {folder}: {error.strerror or error}")
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
