"""A class for a long while: does the server's memory level off? N sessions for M minutes, every change fresh.

The sessions are ``bench/load_test.py``'s (Streamlit's own websocket
protocol, spread over four pages, each change a value no session used
before). With ``--heavy``, a few more sessions on the Network lab press
Train every K minutes with a configuration nobody trained before (a new
epoch count of a 4 × 256 MLP at batch 1), so a heavy run competes with
the class. The server's resident memory (RSS) is sampled every few
seconds. Printed: the RSS curve, its slope over the last third (MB/min;
flat is the goal, issue 24), the light sessions' latency (p50 / p95)
with and without a heavy run in progress, errors, and whether a fresh
session still works afterwards. Memory figures go to docs/memory.md.

Run: python bench/soak.py [--sessions 40] [--minutes 30] [--think 1.5] [--sample 5]
     [--heavy] [--heavy-sessions 3] [--heavy-every 2]
     [--url ws://host:port --pid PID]   (default: starts its own server on loopback)
Set ERROR_SURFACE_LAB_MEMORY_MB in the environment to try another cache budget (a started server inherits it).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import threading
import time

import numpy as np
import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load_test  # noqa: E402 - the sessions and the protocol: one copy, in load_test
from load_test import FreshValues, Session, rss_mb  # noqa: E402

# What a heavy session sets (and Train, where the page asks for it): a larger model than the default at a small
# batch; the epoch count is the fresh value, so no run is served from the cache. The Network lab then also draws
# the trained network's slices, interpolation and Hessian: the whole page is the heavy run.
HEAVY = ("network_lab", "nl_epochs", "int", [2])
HEAVY_SETTINGS = {"nl_depth": 2, "nl_width": 128, "nl_batch": 4}
HEAVY_TRIGGER = "nl_train"
LIGHT_TIMEOUT_S = 120.0  # a change with no finished page by then counts as an error (and ends that session)
HEAVY_TIMEOUT_S = 600.0


class TimedSession(Session):
    """A light session that keeps when each change started, to tell changes during heavy runs from the others."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timed: list[tuple[float, float]] = []  # (start, seconds to the finished page)

    async def run_once(self, ws, value=None) -> float:
        start = time.monotonic()
        took = await asyncio.wait_for(super().run_once(ws, value), LIGHT_TIMEOUT_S)
        if value is not None:
            self.timed.append((start, took))
        return took


class HeavySession(Session):
    """A Network lab session whose change sets the large model and a new epoch count, and presses Train."""

    async def run_once(self, ws, value=None) -> float:
        return await asyncio.wait_for(super().run_once(ws, value), HEAVY_TIMEOUT_S)

    def rerun_message(self, value=None):
        msg = super().rerun_message(value)
        if value is not None:
            for key, setting in HEAVY_SETTINGS.items():
                if key in self.widget_ids:
                    state = msg.rerun_script.widget_states.widgets.add()
                    state.id, state.int_value = self.widget_ids[key], setting
            if HEAVY_TRIGGER in self.widget_ids:
                state = msg.rerun_script.widget_states.widgets.add()
                state.id, state.trigger_value = self.widget_ids[HEAVY_TRIGGER], True
        return msg

    async def heavy_runs(self, duration: float, every: float, offset: float,
                         runs: list[tuple[float, float]]) -> None:
        """Every ``every`` seconds (first after ``offset``) one training run; its (start, end) go to ``runs``."""
        try:
            async with websockets.connect(f"{self.url}/_stcore/stream", subprotocols=["streamlit"],
                                          max_size=None, open_timeout=60) as ws:
                await self.run_once(ws)
                end = time.monotonic() + duration
                next_run = time.monotonic() + offset
                while next_run < end:
                    await asyncio.sleep(max(0.0, next_run - time.monotonic()))
                    start = time.monotonic()
                    self.latencies.append(await self.run_once(ws, self.fresh.next(self.key, self.kind, self.values)))
                    runs.append((start, time.monotonic()))
                    next_run += every
        except (TimeoutError, OSError, websockets.WebSocketException) as err:
            self.errors.append(f"{self.page}: connection: {err!r}"[:160])


class Sampler(threading.Thread):
    """The server's RSS (MB, summed over ``pids``) every ``every`` seconds, with the time since the start."""

    def __init__(self, pids: list[int], every: float):
        super().__init__(daemon=True)
        self.pids, self.every = pids, every
        self.samples: list[tuple[float, float]] = []
        self.t0 = time.monotonic()
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                self.samples.append((time.monotonic() - self.t0, sum(rss_mb(p) for p in self.pids)))
            except OSError:
                pass
            self.stopped.wait(self.every)


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of RSS against time over the last third of ``samples``, in MB per minute."""
    tail = samples[len(samples) - max(2, len(samples) // 3):]
    if len(tail) < 2:
        return float("nan")
    t, mb = np.array(tail).T
    return float(np.polyfit(t / 60.0, mb, 1)[0])


def quantiles(values: list[float]) -> str:
    if not values:
        return "none"
    v = np.sort(values)
    return f"p50 {np.quantile(v, 0.5):.2f} s, p95 {np.quantile(v, 0.95):.2f} s ({len(v)} changes)"


def during(start: float, runs: list[tuple[float, float]]) -> bool:
    return any(a <= start <= b for a, b in runs)


async def soak(url: str, sessions: int, duration: float, think: float, heavy: int, every: float,
               seed: int = 0) -> tuple[list[TimedSession], list[HeavySession], list[tuple[float, float]]]:
    rng = random.Random(seed)
    fresh = FreshValues()
    light = [TimedSession(url, *load_test.SCENARIOS[i % len(load_test.SCENARIOS)], fresh=fresh)
             for i in range(sessions)]
    heavies = [HeavySession(url, *HEAVY, fresh=fresh) for _ in range(heavy)]
    runs: list[tuple[float, float]] = []
    await asyncio.gather(*(s.run(duration, think, random.Random(rng.random())) for s in light),
                         *(h.heavy_runs(duration, every, offset=every / 2 + 5 * i, runs=runs)
                           for i, h in enumerate(heavies)))
    return light, heavies, runs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=40)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--think", type=float, default=1.5, help="mean seconds between a session's changes")
    ap.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    ap.add_argument("--heavy", action="store_true", help="a few sessions also start Network lab trainings")
    ap.add_argument("--heavy-sessions", type=int, default=3)
    ap.add_argument("--heavy-every", type=float, default=2.0, help="minutes between a heavy session's runs")
    ap.add_argument("--url", default=None, help="ws://host:port of a running app (default: start one)")
    ap.add_argument("--pid", type=int, action="append", default=[], help="the server's pid(s) with --url")
    args = ap.parse_args()
    with load_test.app_under_load(args.url, args.pid) as (url, pids):
        warm = asyncio.run(load_test.load(url, len(load_test.SCENARIOS), 0.1, 0.1))
        sampler = Sampler(pids, args.sample)
        sampler.start()
        light, heavies, runs = asyncio.run(soak(url, args.sessions, 60 * args.minutes, args.think,
                                                args.heavy_sessions if args.heavy else 0, 60 * args.heavy_every))
        sampler.stopped.set()
        sampler.join()
        check = asyncio.run(load_test.load(url, 1, 0.1, 0.1))[0]
        samples = sampler.samples
        print(f"{args.sessions} light sessions × {args.minutes:g} min, every value fresh (think {args.think} s)"
              + (f", {len(heavies)} heavy sessions training every {args.heavy_every:g} min ({len(runs)} runs)"
                 if heavies else "") + f", against {url}")
        if samples:
            step = max(1, len(samples) // 30)  # at most ~30 lines of curve
            print("RSS curve (s: MB): " + ", ".join(f"{t:.0f}: {mb:.0f}" for t, mb in samples[::step]
                                                     + ([samples[-1]] if (len(samples) - 1) % step else [])))
            print(f"RSS: start {samples[0][1]:.0f} MB, peak {max(mb for _, mb in samples):.0f} MB, "
                  f"end {samples[-1][1]:.0f} MB; slope over the last third {slope_mb_per_min(samples):+.1f} MB/min")
        timed = [(s0, took) for s in light for s0, took in s.timed]
        print(f"light sessions, all changes: {quantiles([took for _, took in timed])}")
        if heavies:
            print(f"    during a heavy run: {quantiles([took for s0, took in timed if during(s0, runs)])}")
            print(f"    with no heavy run:  {quantiles([took for s0, took in timed if not during(s0, runs)])}")
            print(f"heavy runs (press → finished page): {quantiles([x for h in heavies for x in h.latencies])}")
        errors = [e for s in warm + light + heavies for e in s.errors]
        print(f"errors: {len(errors)}" + (f" — first: {errors[:3]}" if errors else ""))
        print(f"afterwards a fresh session {'works' if not check.errors else 'FAILS: ' + str(check.errors)}")


if __name__ == "__main__":
    main()
