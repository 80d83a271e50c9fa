"""Heavy runs (trainings, studies) in a bounded pool of worker processes, outside the server's interpreter.

Why: a Network lab training or a saddle study computes for tens of seconds to minutes. In the server's
process it holds the interpreter lock between XLA calls and every other session of the class waits on it.
Here it runs in a worker process instead, and the server's thread only waits on a pipe:

- at most ``workers`` runs compute at once (``$ERROR_SURFACE_LAB_WORKERS``; default: half the cores, at
  least 1 and at most 4 — 1 on a 2-core machine); the rest queue in order, and each requester is told how
  many runs are ahead of its own;
- identical requests — the same ``(kind, key)`` that ``caches.disk_cached`` uses, a full configuration —
  share one run, and its result is stored once through ``caches.disk_cached`` (memory and disk), as before;
- a run that nobody waits for any more (its session closed, its script run stopped) is taken out of the
  queue, or its worker process is terminated, ``ORPHAN_GRACE_S`` after its last requester left; a rerun
  of the same session that asks again within that time picks it up where it is;
- a run that raises in its worker, or whose worker dies (``os._exit``, SIGKILL, out of memory), fails alone
  with a message (``RunFailed``); the server is untouched and the next run gets a new worker.

Workers are started with the ``spawn`` context: a fresh interpreter, never a fork of a process whose JAX
threads are running. A job is a module-level function ``function(*args, progress=callback)`` returning
plain NumPy arrays, numbers and NamedTuples (pickled back through the pipe). The shared pool is created on
first use and shut down at exit. This module imports no Streamlit at import time: the one Streamlit-aware
piece, ``streamlit_requester_alive``, imports it when called.
"""
from __future__ import annotations

import atexit
import collections
import importlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable
from typing import NamedTuple

WORKERS_ENV = "ERROR_SURFACE_LAB_WORKERS"
ORPHAN_GRACE_S = 1.5  # a run without requesters is cancelled after this: a session's rerun re-attaches first
POLL_S = 0.2  # how often a requester checks that its session is still there
YIELD_S = 1.0  # a requester's callbacks run at least this often: Streamlit's point to stop or rerun the script
PROGRESS_STEP = 0.01  # a worker reports progress when it moved this much (or every PROGRESS_EVERY_S)
PROGRESS_EVERY_S = 0.5
HISTORY = 64  # finished runs remembered for diagnostics and tests
WORKER_IDLE_S = 600.0  # a worker idle this long is ended: its memory (JAX, compiled code) goes back to the machine
PRELOAD = ("runtime",)  # what a worker imports first; runtime.set_up(): the server's compile cache and its bounds

log = logging.getLogger(__name__)


class RunFailed(Exception):
    """The run raised in its worker, its worker died, or it was cancelled; the message says which."""


class RequesterGone(Exception):
    """The session that waited for a run has gone (its tab closed)."""


class Finished(NamedTuple):
    """What the pool remembers of a finished run: enough for the Home page's diagnostics and the tests."""

    kind: str
    key: tuple
    state: str  # done | failed | cancelled
    pid: int | None  # the worker process that ran it (None: it never reached one)
    error: str | None


def default_workers(cores: int | None = None) -> int:
    """Half the cores this process may use, at least 1 and at most 4: a training uses more than one core
    through XLA's threads."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(4, cores // 2))


def configured_workers(environ=os.environ) -> int:
    """``$ERROR_SURFACE_LAB_WORKERS`` if it is a whole number ≥ 1, else ``default_workers()`` (logged)."""
    text = environ.get(WORKERS_ENV, "").strip()
    if text:
        try:
            count = int(text)
        except ValueError:
            count = 0
        if count >= 1:
            return count
        log.warning("%s=%r is not a whole number >= 1; using %d", WORKERS_ENV, text, default_workers())
    return default_workers()


class Run:
    """One computation of ``(kind, key)``, shared by every requester while it is unfinished.

    ``state``: checking (its first requester looks in the caches) → queued → running → done | failed |
    cancelled. ``finished`` is set once it is done, failed or cancelled.
    """

    def __init__(self, kind: str, key: tuple, function: Callable, args: tuple):
        self.kind, self.key, self.function, self.args = kind, key, function, args
        self.state = "checking"
        self.fraction = 0.0
        self.value = None
        self.error: str | None = None
        self.from_cache = False
        self.waiters = 0
        self.orphaned_at: float | None = None
        self.pid: int | None = None
        self.finished = threading.Event()


# --------------------------------------------------------------------------- the worker process
class _ProgressToServer:
    """The ``progress`` callback a job gets in its worker: sends the fraction done, not more often than needed."""

    def __init__(self, conn):
        self.conn, self.sent, self.at = conn, -1.0, 0.0

    def __call__(self, fraction, *_):
        fraction, now = float(fraction), time.monotonic()
        if fraction - self.sent >= PROGRESS_STEP or now - self.at >= PROGRESS_EVERY_S or fraction >= 1.0:
            self.conn.send(("progress", fraction))
            self.sent, self.at = fraction, now


def worker_main(conn, preload: tuple[str, ...] = PRELOAD) -> None:
    """A worker's loop: import ``preload`` (and set up ``runtime`` if it is one of them), then receive
    ``(function, args)`` and send back ``("done", value)`` or ``("error", text)``.

    Ctrl-C in the server's terminal reaches the whole process group; the server stops its workers itself,
    so they ignore it. It ends when the server closes the pipe or sends None.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in preload:
        importlib.import_module(name)
    runtime = sys.modules.get("runtime")  # preloaded: set up as the server's is, before the first job compiles
    if runtime is not None:
        runtime.set_up()
    trim = getattr(runtime, "trim_compile_caches", lambda: None)  # JAX's executables stay bounded

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the server has gone
        except Exception as error:  # noqa: BLE001 - a job that cannot be unpickled here fails alone
            conn.send(("error", f"the job could not be loaded in the worker: {error!r}"))
            continue
        if message is None:
            return
        function, args = message
        try:
            value = function(*args, progress=_ProgressToServer(conn))
        except Exception as error:  # noqa: BLE001 - reported to the page; the worker takes the next job
            text = "".join(traceback.format_exception_only(type(error), error)).strip()
            conn.send(("error", text))
        else:
            try:
                conn.send(("done", value))
            except Exception as error:  # noqa: BLE001 - e.g. a result that cannot be pickled
                conn.send(("error", f"the result could not be sent back: {error!r}"))
        finally:
            trim()


class _Worker:
    """One worker process and the server's end of its pipe; ``run`` is what it computes now (None: idle)."""

    def __init__(self, context, preload: tuple[str, ...]):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=worker_main, args=(child, preload), daemon=True,
                                       name="heavy-run-worker")
        # A spawned child first runs the parent's ``__main__`` (multiprocessing.spawn.get_preparation_data). In
        # the server that is the page script of whichever session ran last (Streamlit's ScriptRunner installs
        # each run's script as ``sys.modules["__main__"]``), so the worker would run a page. During ``start``
        # a blank ``__main__`` stands in (no file, no spec: nothing to run); the original is put back only if
        # no script run has installed its own meanwhile.
        blank = types.ModuleType("__main__")
        original = sys.modules.get("__main__")
        sys.modules["__main__"] = blank
        try:
            self.process.start()
        finally:
            if sys.modules.get("__main__") is blank:
                sys.modules["__main__"] = original
        child.close()
        self.run: Run | None = None
        self.idle_since = time.monotonic()

    def stop(self, terminate: bool) -> None:
        """End the process: ask it (idle) or terminate it (busy), kill it if it does not go; reap it."""
        if not terminate:
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                terminate = True
            self.process.join(1.0)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(1.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1.0)
        self.conn.close()


# --------------------------------------------------------------------------- the pool (server side)
class WorkerPool:
    """At most ``workers`` worker processes, started when a run needs one; a queue of runs; one thread watching.

    Thread-safe: the page scripts' threads call ``claim``/``enqueue``/``release``; one manager thread sends
    runs to idle workers, reads their progress and results, notices dead workers and cancels abandoned runs.
    """

    def __init__(self, workers: int | None = None, context: str = "spawn", grace: float = ORPHAN_GRACE_S,
                 preload: tuple[str, ...] = PRELOAD, idle_s: float = WORKER_IDLE_S):
        self.workers = workers or configured_workers()
        self.grace, self.preload, self.idle_s = grace, preload, idle_s
        self._context = multiprocessing.get_context(context)
        self._lock = threading.Condition()
        self._runs: dict[tuple, Run] = {}  # (kind, key) -> its unfinished run
        self._queue: list[Run] = []
        self._slots: list[_Worker] = []
        self._thread: threading.Thread | None = None
        self._closed = False
        self.history: collections.deque[Finished] = collections.deque(maxlen=HISTORY)

    # ---------------------------------------------------------------- what requesters call
    def claim(self, kind: str, key: tuple, function: Callable, args: tuple) -> tuple[Run, bool]:
        """The unfinished run of ``(kind, key)`` (joined) or a new one; True if new (the caller must start or settle it)."""
        with self._lock:
            if self._closed:
                raise RunFailed("the worker pool has been shut down")
            run = self._runs.get((kind, key))
            new = run is None
            if new:
                run = self._runs[(kind, key)] = Run(kind, key, function, args)
            run.waiters += 1
            run.orphaned_at = None
            return run, new

    def enqueue(self, run: Run) -> None:
        """Queue a run its first requester did not find in a cache."""
        with self._lock:
            if run.state == "checking":
                run.state = "queued"
                self._queue.append(run)
                self._start_manager()
                self._lock.notify_all()

    def settle(self, run: Run, value=None, error: str | None = None) -> None:
        """A run its first requester resolved without a worker: found in a cache (``value``) or failed (``error``)."""
        with self._lock:
            if run.state == "checking":
                if error is None:
                    run.from_cache = True
                    self._finish(run, "done", value=value)
                else:
                    self._finish(run, "failed", error=error)

    def release(self, run: Run) -> None:
        """A requester stopped waiting; with none left, the run is cancelled after ``grace`` seconds."""
        with self._lock:
            run.waiters -= 1
            if run.waiters == 0 and not run.finished.is_set():
                if run.state == "checking":
                    self._finish(run, "cancelled", error="its requester left before it started")
                else:
                    run.orphaned_at = time.monotonic()
                    self._lock.notify_all()

    def ahead(self, run: Run) -> int:
        """How many runs come before ``run``: those computing now and those queued before it (0 once it runs)."""
        with self._lock:
            if run.state != "queued":
                return 0
            return self._queue.index(run) + sum(1 for w in self._slots if w.run is not None)

    def busy(self) -> tuple[int, int]:
        """(runs computing, runs queued) now."""
        with self._lock:
            return sum(1 for w in self._slots if w.run is not None), len(self._queue)

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._slots]

    def shutdown(self) -> None:
        """Cancel every unfinished run and end every worker (idle ones are asked, busy ones terminated)."""
        with self._lock:
            self._closed = True
            for run in list(self._runs.values()):
                self._finish(run, "cancelled", error="the server is shutting down")
            slots, self._slots = self._slots, []
            self._lock.notify_all()
        for worker in slots:
            worker.stop(terminate=worker.run is not None)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)

    # ---------------------------------------------------------------- the manager thread (lock held unless said)
    def _start_manager(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._manage, name="heavy-runs-manager", daemon=True)
            self._thread.start()

    def _finish(self, run: Run, state: str, value=None, error: str | None = None) -> None:
        if run.finished.is_set():
            return
        run.state, run.value, run.error = state, value, error
        if self._runs.get((run.kind, run.key)) is run:
            del self._runs[(run.kind, run.key)]
        if run in self._queue:
            self._queue.remove(run)
        run.function = run.args = None  # the configuration may be large; the requesters keep only the result
        self.history.append(Finished(run.kind, run.key, state, run.pid, error))
        run.finished.set()

    def _retire(self, worker: _Worker, terminate: bool) -> None:
        if worker in self._slots:
            self._slots.remove(worker)
        worker.stop(terminate)

    def _cancel_orphans(self) -> None:
        now = time.monotonic()
        for run in list(self._runs.values()):
            if run.waiters or run.orphaned_at is None or now - run.orphaned_at < self.grace:
                continue
            if run.state == "running":
                worker = next((w for w in self._slots if w.run is run), None)
                if worker is not None:
                    worker.run = None
                    self._retire(worker, terminate=True)
            self._finish(run, "cancelled", error="nobody waits for it any more")

    def _dispatch(self) -> None:
        while self._queue:
            worker = next((w for w in self._slots if w.run is None), None)
            if worker is not None and not worker.process.is_alive():  # died while idle
                self._retire(worker, terminate=True)
                continue
            if worker is None:
                if len(self._slots) >= self.workers:
                    return
                try:
                    worker = _Worker(self._context, self.preload)
                except Exception as error:  # noqa: BLE001 - e.g. no memory or processes left for a new one
                    self._finish(self._queue[0], "failed", error=f"no worker process could be started: {error!r}")
                    continue
                self._slots.append(worker)
            run = self._queue.pop(0)
            try:
                worker.conn.send((run.function, run.args))
            except Exception as error:  # noqa: BLE001 - a job that cannot be pickled, a broken pipe
                self._finish(run, "failed", error=f"the job could not be sent to a worker: {error!r}")
                if isinstance(error, OSError):
                    self._retire(worker, terminate=True)
                continue
            run.state, run.pid, worker.run = "running", worker.process.pid, run

    def _read(self, worker: _Worker) -> None:
        """Take in what ``worker`` sent; fail its run if the process has died without a result."""
        dead = not worker.process.is_alive()  # before draining: a result sent just before dying is still read
        try:
            while worker.run is not None and worker.conn.poll():
                tag, payload = worker.conn.recv()
                if tag == "progress":
                    worker.run.fraction = payload
                elif tag in ("done", "error"):
                    self._finish(worker.run, "done" if tag == "done" else "failed",
                                 value=payload if tag == "done" else None, error=payload if tag == "error" else None)
                    worker.run, worker.idle_since = None, time.monotonic()
        except Exception:  # noqa: BLE001 - EOF, a half-written message: the process is gone or going
            dead = True
        if dead or not worker.process.is_alive():
            if worker.run is not None:
                worker.process.join(1.0)
                code = worker.process.exitcode
                reason = (f"killed by signal {-code}" if code is not None and code < 0
                          else f"exit code {code}")
                self._finish(worker.run, "failed", error=f"the worker process ended unexpectedly ({reason})")
                worker.run = None
            self._retire(worker, terminate=True)

    def _retire_idle(self) -> float | None:
        """End the workers idle for ``idle_s``; returns the seconds until the next one would be (None: none idle)."""
        now, soonest = time.monotonic(), None
        for worker in [w for w in self._slots if w.run is None]:
            left = worker.idle_since + self.idle_s - now
            if left <= 0:
                self._retire(worker, terminate=False)
            else:
                soonest = left if soonest is None else min(soonest, left)
        return soonest

    def _manage(self) -> None:
        """The manager thread: steps until the pool is shut down. A step that fails is logged, not fatal: the
        requesters wait on this thread."""
        while True:
            try:
                if not self._step():
                    return
            except Exception:  # noqa: BLE001 - logged; the next step looks at everything again
                log.exception("heavy runs: a step of the pool's manager failed")
                time.sleep(POLL_S)

    def _step(self) -> bool:
        """Retire idle workers, cancel abandoned runs, start queued ones, wait a little for news and read it.

        Returns False once the pool is shut down.
        """
        with self._lock:
            while not self._closed and not self._runs and not any(w.run for w in self._slots):
                self._lock.wait(self._retire_idle())  # nothing to watch but idle workers
            if self._closed:
                return False
            self._retire_idle()
            self._cancel_orphans()
            self._dispatch()
            busy = [w for w in self._slots if w.run is not None]
            watching = bool(self._runs)
        if busy:
            try:
                multiprocessing.connection.wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                                                timeout=POLL_S)
            except (OSError, ValueError):  # a pipe closed meanwhile (shutdown, a cancelled run): read below
                pass
        elif watching:
            time.sleep(POLL_S)  # queued or orphaned runs only: look again soon
        with self._lock:
            for worker in busy:
                if worker in self._slots:
                    self._read(worker)
        return True


# --------------------------------------------------------------------------- the shared pool and the requester's side
_POOL: WorkerPool | None = None
_POOL_GUARD = threading.Lock()


def shared_pool() -> WorkerPool:
    """The server's pool, created on first use (no processes until a run needs one) and shut down at exit."""
    global _POOL
    with _POOL_GUARD:
        if _POOL is None:
            _POOL = WorkerPool()
            atexit.register(_POOL.shutdown)
        return _POOL


def streamlit_requester_alive() -> bool:
    """False once the Streamlit session running this thread's script has left the runtime (its tab closed).

    True outside a script run (a notebook, a bench) and where there is no runtime (AppTest). A stop or
    rerun of the script itself arrives as Streamlit's own exception at the next progress call.
    """
    try:
        from streamlit import runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:
        return True
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not runtime.exists():
        return True
    return runtime.get_instance().is_active_session(ctx.session_id)


def wait_for(run: Run, pool: WorkerPool, progress=None, waiting=None, alive=streamlit_requester_alive):
    """``run``'s value once it is done; meanwhile ``waiting(runs ahead)`` while queued, ``progress(fraction)``
    while computing (each at least every ``YIELD_S``). Raises RunFailed, or RequesterGone when ``alive()`` is False.
    """
    shown, called = None, 0.0
    while not run.finished.wait(POLL_S):
        if not alive():
            raise RequesterGone(f"the session waiting for {run.kind} has gone")
        now = time.monotonic()
        queued = run.state in ("checking", "queued")
        report = waiting if queued and waiting is not None else progress
        value = pool.ahead(run) if queued and waiting is not None else (0.0 if queued else run.fraction)
        if report is not None and ((queued, value) != shown or now - called >= YIELD_S):
            report(value)
            shown, called = (queued, value), now
    if run.state == "done":
        return run.value
    raise RunFailed(run.error or run.state)


class _Evicted(Exception):
    """A result that was in memory a moment ago and is no longer (the cache evicted it meanwhile)."""


def _evicted():
    raise _Evicted


def cached_run(kind: str, key: tuple, expected, function: Callable, args: tuple = (), progress=None,
               waiting=None, alive=None, pool: WorkerPool | None = None) -> tuple[object, bool]:
    """``function(*args, progress=...)`` in a worker, through ``caches.disk_cached(kind, key, …, expected)``.

    Returns (value, whether it came from a cache). In this process's memory: returned at once. Otherwise the
    first requester looks on disk (``disk_cached``) and, on a miss, queues the run and waits; requesters of
    the same ``(kind, key)`` meanwhile join that run and then store its value through ``disk_cached`` (the
    first store writes, the others find it in memory). ``alive``: whether the requester is still there
    (default: its Streamlit session is); raises RunFailed or RequesterGone (wait_for).
    """
    import caches  # here, not at the top: a worker imports this module and preloads only what it needs

    if caches.is_cached(kind, key):
        try:
            return caches.disk_cached(kind, key, _evicted, expected)
        except _Evicted:
            pass  # evicted between the two calls and not on disk: computed below like any miss
    pool = pool or shared_pool()
    alive = alive or streamlit_requester_alive
    run, first = pool.claim(kind, key, function, args)
    try:
        if first:
            def compute():
                pool.enqueue(run)
                return wait_for(run, pool, progress, waiting, alive)

            try:
                value, cached = caches.disk_cached(kind, key, compute, expected)
            except BaseException as error:
                pool.settle(run, error=f"{type(error).__name__}: {error}")  # only if it never reached the queue
                raise
            if cached:
                pool.settle(run, value=value)
            return value, cached
        value = wait_for(run, pool, progress, waiting, alive)
        return caches.disk_cached(kind, key, lambda: value, expected)[0], run.from_cache
    finally:
        pool.release(run)
