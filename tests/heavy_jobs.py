"""Tiny jobs for tests/test_heavy_runs.py, run in a worker process: this module imports only the standard
library, so a worker starts without importing the test's own dependencies. They leave files in a folder so
the test can see what happened in the worker.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import NamedTuple


class Echo(NamedTuple):
    """A job's result: the value it was given and the process that computed it."""

    value: float
    pid: int


def echo(value: float, progress=None) -> Echo:
    return Echo(value, os.getpid())


def counted(folder: str, value: float, hold_s: float, progress=None) -> Echo:
    """Appends a line to ``folder/count`` (one per computation), reports progress for ``hold_s`` seconds."""
    with open(os.path.join(folder, "count"), "a") as f:
        f.write(f"{os.getpid()}\n")
    steps = 10
    for k in range(steps):
        time.sleep(hold_s / steps)
        progress((k + 1) / steps)
    return Echo(value, os.getpid())


def held(folder: str, name: str, progress=None) -> Echo:
    """Writes its pid to ``folder/<name>.pid`` and runs until ``folder/<name>.go`` exists (or a minute)."""
    Path(folder, f"{name}.pid").write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while not Path(folder, f"{name}.go").exists() and time.monotonic() < deadline:
        progress(0.5)
        time.sleep(0.05)
    return Echo(1.0, os.getpid())


def fails(how: str, progress=None) -> Echo:
    if how == "exception":
        raise ValueError("boom")
    if how == "exit":
        os._exit(3)
    os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(10)
    return Echo(0.0, os.getpid())
