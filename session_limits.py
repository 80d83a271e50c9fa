"""What one browser tab can make the server do: reruns coalesced and rate-limited per session, no cache clearing.

**Why a rerun flood froze the whole process.** Streamlit's ``runner.fastReruns``
(on by default) answers every ``rerun_script`` message by asking the running
ScriptRunner to stop and starting a new ScriptRunner thread at once
(``AppSession.request_rerun``). The old thread stops only when its script
reaches the next Streamlit call, and a page here spends seconds inside JAX
between two calls, so a client that sends reruns as fast as it can starts a
new script thread per message while none of the old ones has stopped: a few
seconds of flooding leave hundreds of page runs fighting for one interpreter
lock, and every other session, the health check included, waits until they
have all reached a checkpoint and died.

Stopping that is not enough: the flood's messages themselves (tens of
thousands a second) keep the server's one event loop busy reading,
parsing and dropping them, and the health check waits behind them.

**What this module does** (``install``, once per server process, from app.py):
each websocket is read at most ``MESSAGES_PER_SECOND`` (``MESSAGE_BURST`` at
once): beyond that the server stops reading it for a moment, TCP pushes back,
and the flooder's own sends block. Each session gets a token bucket (``RERUNS_PER_SECOND``, ``RERUN_BURST``), and
a rerun is started only when the session has a token and its previous run
has stopped. Any rerun that arrives earlier waits as the session's one
pending rerun; a later one replaces it (the browser sends every widget's
value with each rerun, so the newest message holds the state to show; a
full rerun stays a full rerun). A flood therefore costs its own session a
few runs per second and costs the class nothing more; a student's fast
clicks are delayed at worst, never lost.

The ``clear_cache`` message (the developer menu's "Clear cache", hidden in
the viewer toolbar) empties every user's ``st.cache_data`` and
``st.cache_resource``: it is refused unless the operator sets
``ERROR_SURFACE_LAB_ALLOW_CLEAR_CACHE=1``.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time

MESSAGES_PER_SECOND = 30.0  # websocket messages read per connection: a browser sends a few a second at most
MESSAGE_BURST = 100
RERUNS_PER_SECOND = 3.0  # sustained, per session: faster than a student clicks, slower than a script floods
RERUN_BURST = 10  # reruns a session may start back to back before the rate applies
STOPPING_POLL_S = 0.1  # how often a pending rerun checks whether the session's previous run has stopped
STOPPING_WAIT_MAX_S = 10.0  # a run that has not stopped by then (blocked, not computing) is no longer waited for
ALLOW_CLEAR_CACHE = "ERROR_SURFACE_LAB_ALLOW_CLEAR_CACHE"

log = logging.getLogger("error_surface_lab.session_limits")


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved; ``wait(now)`` takes one or says how long until one is due."""

    def __init__(self, rate: float = RERUNS_PER_SECOND, burst: int = RERUN_BURST, now: float | None = None):
        self.rate, self.burst = float(rate), float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic() if now is None else now

    def wait(self, now: float) -> float:
        """0 (and a token is taken) if one is available at ``now``; else the seconds until one is (nothing taken)."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


def coalesce(pending, newer):
    """The one rerun message that stands for ``pending`` followed by ``newer`` (BackMsgs; ``pending`` may be None).

    ``newer`` carries every widget's value; if either was a full-page rerun
    (no fragment), so is the result.
    """
    if pending is not None and not pending.rerun_script.fragment_id and newer.rerun_script.fragment_id:
        full = type(newer)()
        full.CopyFrom(newer)
        full.rerun_script.fragment_id = ""
        return full
    return newer


def clear_cache_allowed() -> bool:
    return os.environ.get(ALLOW_CLEAR_CACHE, "") == "1"


class _SessionLimits:
    """The bucket, the pending rerun, its timer and the runs still stopping, of one AppSession."""

    def __init__(self):
        self.bucket = TokenBucket()
        self.pending = None
        self.timer: asyncio.TimerHandle | None = None
        self.stopping: list = []  # (ScriptRunner told to stop, when): its thread may still be running
        self.deferred = 0  # reruns that waited or were folded into a later one (for tests and logs)


def _still_stopping(limits: _SessionLimits) -> bool:
    """Whether a run this session was told to stop is still running (waited for at most STOPPING_WAIT_MAX_S)."""
    now = time.monotonic()
    limits.stopping = [(r, since) for r, since in limits.stopping if now - since < STOPPING_WAIT_MAX_S
                       and getattr(r, "_script_thread", None) is not None and r._script_thread.is_alive()]
    return bool(limits.stopping)


def install() -> bool:
    """Wrap ``AppSession.handle_backmsg`` (once per process) with the limits above; True if they are in place."""
    try:
        from streamlit.runtime.app_session import AppSession
    except ImportError:
        return False
    original = AppSession.handle_backmsg
    if getattr(original, "session_limits", False):
        return True

    def start(session, limits: _SessionLimits, msg) -> None:
        before = session._scriptrunner
        original(session, msg)
        if before is not None and session._scriptrunner is not before:
            # fastReruns: told to stop, its thread runs on until its next checkpoint
            limits.stopping.append((before, time.monotonic()))

    def flush(session, limits: _SessionLimits) -> None:
        limits.timer = None
        if limits.pending is None:
            return
        loop = asyncio.get_running_loop()
        if _still_stopping(limits):
            limits.timer = loop.call_later(STOPPING_POLL_S, flush, session, limits)
            return
        wait = limits.bucket.wait(time.monotonic())
        if wait > 0:
            limits.timer = loop.call_later(wait, flush, session, limits)
            return
        msg, limits.pending = limits.pending, None
        start(session, limits, msg)

    def handle_backmsg_with_limits(self, msg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "clear_cache":
            if not clear_cache_allowed():
                log.warning("refused a client's clear_cache (set %s=1 to allow it)", ALLOW_CLEAR_CACHE)
                return
            log.warning("a client cleared every user's cache (%s=1)", ALLOW_CLEAR_CACHE)
        if kind != "rerun_script":
            return original(self, msg)
        limits = self.__dict__.setdefault("_lab_session_limits", _SessionLimits())
        if limits.pending is None and limits.timer is None and not _still_stopping(limits) \
                and limits.bucket.wait(time.monotonic()) == 0:
            return start(self, limits, msg)
        limits.deferred += 1
        limits.pending = coalesce(limits.pending, msg)
        if limits.timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not on the server's event loop (no websocket): nothing to schedule on
                msg, limits.pending = limits.pending, None
                return start(self, limits, msg)
            limits.timer = loop.call_soon(flush, self, limits)

    handle_backmsg_with_limits.session_limits = True
    AppSession.handle_backmsg = handle_backmsg_with_limits
    return _limit_websocket_reads()


def _limit_websocket_reads() -> bool:
    """Read each websocket at most MESSAGES_PER_SECOND (Starlette's ``WebSocket.receive_bytes``, Streamlit's reader)."""
    try:
        from starlette.websockets import WebSocket
    except ImportError:
        return False
    original = WebSocket.receive_bytes
    if getattr(original, "session_limits", False):
        return True

    async def receive_bytes_rate_limited(self) -> bytes:
        bucket = self.__dict__.setdefault("_lab_messages", TokenBucket(MESSAGES_PER_SECOND, MESSAGE_BURST))
        while (wait := bucket.wait(time.monotonic())) > 0:
            await asyncio.sleep(wait)  # not reading: the client's sends back up, the event loop serves others
        return await original(self)

    receive_bytes_rate_limited.session_limits = True
    WebSocket.receive_bytes = receive_bytes_rate_limited
    return True
