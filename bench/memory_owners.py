"""Who holds the memory that grows with use? tracemalloc snapshots of a real server, diffed by traceback.

Starts the app in a child process with ``tracemalloc`` on (``--frames`` deep)
and a SIGUSR1 handler that writes a snapshot. Drives it with
``bench/load_test.py``'s sessions, every change a fresh value: a warm-up
(every page compiled, caches started), a snapshot, ``--changes`` more
changes, another snapshot. Prints the tracebacks whose memory grew most
between the two (Python allocations: objects, NumPy arrays, protobuf
messages) beside the growth of the process's RSS; what RSS gained beyond
the traced growth was allocated outside Python's allocator (XLA's compiled
executables, the C++ heap), and the JAX compile-cache sizes named at the
end tell whether compiles were among it. Findings go to docs/memory.md.

Run: python bench/memory_owners.py [--sessions 4] [--changes 200] [--pages playground,momentum] [--top 15]
     [--objects]   (no tracemalloc: live objects by type and the stores that can grow, before and after; fast)
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import tracemalloc
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load_test  # noqa: E402
from load_test import FreshValues, Session, rss_mb  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def census() -> dict:
    """What the server holds now, by owner: live objects by type, and the sizes of the stores that can grow
    (Streamlit's per-session widget metadata and id maps, media files, the budget's caches, the result-key
    locks, JAX's compiled executables per function). Cheap enough to take without tracemalloc."""
    import collections
    import gc

    gc.collect()
    found: dict = {"types": collections.Counter(type(o).__qualname__ for o in gc.get_objects())}
    stores = found["stores"] = {}
    try:
        from streamlit import runtime
        rt = runtime.get_instance()
        sessions = [i.session for i in rt._session_mgr.list_active_sessions()]
        stores["active sessions"] = len(sessions)
        for name, get in (("widget metadata", lambda st: st._new_widget_state.widget_metadata),
                          ("widget values", lambda st: st._new_widget_state.states),
                          ("old widget state", lambda st: st._old_state),
                          ("key->id map", lambda st: st._key_id_mapper._key_id_mapping),
                          ("id->key map", lambda st: st._key_id_mapper._id_key_mapping)):
            stores[f"{name} (all sessions)"] = sum(len(get(s.session_state._state)) for s in sessions)
        stores["media files"] = len(rt.media_file_mgr._file_metadata)
        stores["deferred downloads"] = len(rt.media_file_mgr._deferred_callables)
    except Exception as error:  # noqa: BLE001 - a bench: say what could not be read
        stores["streamlit"] = repr(error)
    try:
        import caches
        import memory_budget
        stores["caches._KEY_LOCKS"] = len(caches._KEY_LOCKS)
        for usage in memory_budget.usage():
            stores[f"budget cache {usage[0]}"] = f"{usage[3] / 2**20:.1f} MB in {usage[4]} entries"
    except Exception as error:  # noqa: BLE001
        stores["caches"] = repr(error)
    try:
        import ctypes

        class Mallinfo2(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                       "fsmblks", "uordblks", "fordblks", "keepcost")]
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = Mallinfo2
        info = libc.mallinfo2()
        stores["malloc in use (MB)"] = round((info.uordblks + info.hblkhd) / 2**20, 1)
        stores["malloc free but held (MB)"] = round(info.fordblks / 2**20, 1)
        if os.environ.get("MEMORY_OWNERS_TRIM") == "1":  # what glibc would give back if asked (then asked)
            rss = lambda: rss_mb(os.getpid())  # noqa: E731
            before = rss()
            libc.malloc_trim(0)
            stores["RSS given back by malloc_trim (MB)"] = round(before - rss(), 1)
    except Exception as error:  # noqa: BLE001 - not glibc
        stores["malloc"] = repr(error)
    try:
        import jax
        arrays = jax.live_arrays()
        stores["JAX live arrays"] = f"{len(arrays)} holding {sum(a.nbytes for a in arrays) / 2**20:.1f} MB"
    except Exception as error:  # noqa: BLE001
        stores["JAX arrays"] = repr(error)
    try:
        import jax  # noqa: F401
        from jax._src import pjit
        executables = {}
        for o in gc.get_objects():
            size = getattr(o, "_cache_size", None)
            if callable(size) and type(o).__name__ in ("PjitFunction", "JitWrapped", "function"):
                try:
                    executables[getattr(o, "__qualname__", repr(o))[:60]] = size()
                except Exception:  # noqa: BLE001
                    pass
        stores["jit executables (all functions)"] = sum(executables.values())
        found["executables"] = executables
        stores["pjit infer_params cache"] = pjit._infer_params_cached.cache_info().currsize
    except Exception as error:  # noqa: BLE001
        stores["jax"] = repr(error)
    return found


def serve(port: int, folder: str, frames: int) -> None:
    """The child: the app, under tracemalloc unless ``frames`` is 0; SIGUSR1 writes ``snapshot-<n>.tracemalloc``
    (or, with frames 0, ``census-<n>.json``: ``census()``) into ``folder``."""
    if frames:
        tracemalloc.start(frames)
    taken = [0]

    def snapshot(signum, frame):
        import gc
        import json
        taken[0] += 1
        if not frames:
            path = os.path.join(folder, f"census-{taken[0]}.json")
            with open(path + ".tmp", "w") as f:
                json.dump(census(), f)
            os.replace(path + ".tmp", path)
            return
        gc.collect()
        path = os.path.join(folder, f"snapshot-{taken[0]}.tracemalloc")
        tracemalloc.take_snapshot().dump(path + ".tmp")
        os.replace(path + ".tmp", path)

    signal.signal(signal.SIGUSR1, snapshot)
    sys.path.insert(0, ROOT)
    os.chdir(ROOT)
    from streamlit.web import bootstrap
    bootstrap.load_config_options({"server.headless": True, "server.port": port, "server.address": "127.0.0.1",
                                   "browser.gatherUsageStats": False, "server.fileWatcherType": "none"})
    bootstrap.run(os.path.join(ROOT, "app.py"), False, [], {})


def take(proc: subprocess.Popen, folder: str, n: int, objects: bool = False):
    """Signal the server and read back its tracemalloc snapshot (or, with ``objects``, its ``census()``)."""
    import json
    proc.send_signal(signal.SIGUSR1)
    path = os.path.join(folder, f"census-{n}.json" if objects else f"snapshot-{n}.tracemalloc")
    for _ in range(1200):
        if os.path.exists(path):
            if objects:
                with open(path) as f:
                    return json.load(f)
            return tracemalloc.Snapshot.load(path)
        time.sleep(0.25)
    raise SystemExit("no snapshot came back")


def print_census(before: dict, after: dict, changes: int, top: int) -> None:
    """The stores' sizes before and after, and the object types whose count grew most."""
    print("stores (before → after):")
    for name, value in after["stores"].items():
        print(f"  {name}: {before['stores'].get(name)} → {value}")
    grown = sorted(((after["types"][t] - before["types"].get(t, 0), t) for t in after["types"]), reverse=True)
    print(f"object types whose count grew most (top {top}; per change in brackets):")
    for diff, name in grown[:top]:
        print(f"  {diff:+8d} ({diff / max(changes, 1):+.2f})  {name}")
    execs = sorted(((v - before.get("executables", {}).get(k, 0), k) for k, v in after.get("executables", {}).items()),
                   reverse=True)
    print("compiled functions that gained executables: " +
          (", ".join(f"{k} +{d}" for d, k in execs if d > 0) or "none"))


def where(trace: tracemalloc.Traceback, lines: int = 4) -> str:
    """The allocating frame, and the innermost frames of this project (what the growth belongs to)."""
    ours = [f for f in trace if f.filename.startswith(ROOT)]
    shown = [trace[0]] + [f for f in ours if (f.filename, f.lineno) != (trace[0].filename, trace[0].lineno)][: lines - 1]
    return " ← ".join(f"{os.path.relpath(f.filename, ROOT) if f.filename.startswith(ROOT) else f.filename.split('site-packages/')[-1]}:{f.lineno}"
                      for f in shown)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", nargs=3, metavar=("PORT", "FOLDER", "FRAMES"), help=argparse.SUPPRESS)
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--changes", type=int, default=200, help="fresh changes between the two snapshots")
    ap.add_argument("--warm", type=int, default=40, help="fresh changes before the first snapshot")
    ap.add_argument("--pages", default="", help="comma-separated load_test pages (default: all four)")
    ap.add_argument("--frames", type=int, default=12)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--objects", action="store_true",
                    help="no tracemalloc: count live objects by type and the stores that can grow (fast)")
    args = ap.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1], int(args.serve[2]))
        return
    scenarios = [s for s in load_test.SCENARIOS if not args.pages or s[0] in args.pages.split(",")]
    folder = f"/tmp/memory-owners-{os.getpid()}"
    os.makedirs(folder, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve", str(port), folder,
                             str(0 if args.objects else args.frames)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.25)
        url = f"ws://127.0.0.1:{port}"
        fresh = FreshValues()

        async def drive(changes: int) -> list[Session]:
            crowd = [Session(url, *scenarios[i % len(scenarios)], fresh=fresh) for i in range(args.sessions)]
            per = -(-changes // len(crowd))

            async def one(session: Session):
                import websockets
                async with websockets.connect(f"{url}/_stcore/stream", subprotocols=["streamlit"], max_size=None,
                                              open_timeout=120) as ws:
                    await session.run_once(ws)
                    for _ in range(per):
                        session.latencies.append(await session.run_once(
                            ws, fresh.next(session.key, session.kind, session.values)))

            await asyncio.gather(*(one(s) for s in crowd))
            return crowd

        warm = asyncio.run(drive(args.warm))
        before, rss0 = take(proc, folder, 1, args.objects), rss_mb(proc.pid)
        crowd = asyncio.run(drive(args.changes))
        after, rss1 = take(proc, folder, 2, args.objects), rss_mb(proc.pid)
        changes = sum(len(s.latencies) for s in crowd)
        if args.objects:
            print(f"{changes} fresh changes on {', '.join(s[0] for s in scenarios)} ({args.sessions} sessions; "
                  f"sessions closed before the second census); budget {os.environ.get('ERROR_SURFACE_LAB_MEMORY_MB', 'default')} MB")
            print(f"RSS {rss0:.0f} → {rss1:.0f} MB ({(rss1 - rss0) / max(changes, 1):+.3f} MB per change)")
            print_census(before, after, changes, args.top)
            errors = [e for s in warm + crowd for e in s.errors]
            print(f"errors: {len(errors)}" + (f" — first: {errors[:3]}" if errors else ""))
            return
        traced = (sum(s.size for s in after.statistics("filename")) - sum(s.size for s in before.statistics("filename")))
        print(f"{changes} fresh changes on {', '.join(s[0] for s in scenarios)} ({args.sessions} sessions; "
              f"sessions closed before the second snapshot)")
        print(f"RSS {rss0:.0f} → {rss1:.0f} MB ({(rss1 - rss0) / max(changes, 1):+.3f} MB per change); "
              f"traced by Python's allocator {traced / 2**20:+.1f} MB ({traced / 2**20 / max(changes, 1):+.3f} MB "
              f"per change); the rest outside it")
        print(f"largest growth by traceback (top {args.top}):")
        for stat in after.compare_to(before, "traceback")[: args.top]:
            print(f"  {stat.size_diff / 2**20:+8.2f} MB {stat.count_diff:+7d} blocks  {where(stat.traceback)}")
        errors = [e for s in warm + crowd for e in s.errors]
        print(f"errors: {len(errors)}" + (f" — first: {errors[:3]}" if errors else ""))
    finally:
        proc.terminate()
        proc.wait(20)


if __name__ == "__main__":
    main()
