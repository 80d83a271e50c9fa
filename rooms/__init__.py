"""Class rooms: the store a live class shares (who leads, what the class follows, the answers).

A teacher ``create_room()``s and gets a short public code and a secret; the
students ``join`` with the code and follow the teacher's state by polling
its ``version``; the teacher can pause the class, ``ask`` a question and
``reveal`` its anonymous answers. What a room holds, who may do what and why
is in ``rooms.store``; the limits in ``rooms.limits``; the manual is
docs/rooms.md.

The store must outlive and be shared by every app process (DESIGN.md,
principle 14), so it is never one process's memory: by default one SQLite
file in the app's data folder (``rooms.sqlite_store``: every process on this
machine, as ``deploy/run_cluster.sh`` runs them), and a Redis server when
``ERROR_SURFACE_LAB_REDIS_URL`` names one (``rooms.redis_store``: several
machines). Both pass the same tests.

Plain Python: nothing here imports Streamlit (or JAX), so the store can be
tested, benchmarked and inspected without a server.

    >>> store = rooms.open_store()
    >>> key = store.create_room()              # key.code for the class, key.secret for the teacher only
    >>> me = store.join(key.code)              # a student
    >>> store.set_state(key.code, key.secret, {"page": "playground", "lr": 0.1})
    2
    >>> store.version(key.code), store.room(key.code).state
    (2, {'page': 'playground', 'lr': 0.1})
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

from rooms.errors import (
    BadAnswer,
    BadCode,
    BadInput,
    BadQuestion,
    BadState,
    NotAFollower,
    NotTheTeacher,
    QuestionClosed,
    RoomError,
    RoomExpired,
    RoomFull,
    RoomNotFound,
    StoreFull,
    StoreUnavailable,
)
from rooms.limits import Limits
from rooms.store import Answers, Question, Room, RoomStore, TeacherKey

REDIS_URL_VARIABLE = "ERROR_SURFACE_LAB_REDIS_URL"
DATA_FOLDER_VARIABLE = "ERROR_SURFACE_LAB_CACHE"

__all__ = ["Answers", "BadAnswer", "BadCode", "BadInput", "BadQuestion", "BadState", "Limits", "NotAFollower",
           "NotTheTeacher", "Question", "QuestionClosed", "Room", "RoomError", "RoomExpired", "RoomFull",
           "RoomNotFound", "RoomStore", "StoreFull", "StoreUnavailable", "TeacherKey", "data_folder", "open_store",
           "sqlite_path"]


def data_folder(environ: Mapping[str, str] = os.environ) -> str:
    """The app's data folder: ``$ERROR_SURFACE_LAB_CACHE``, default ~/.cache/error-surface-lab/jax.

    The same folder ``runtime.set_up`` configures for JAX's compile cache and
    ``caches``' results (and ``deploy/run_cluster.sh`` shares between its
    processes); read here from the environment rather than imported, so that
    the class-room store depends on none of the lab's JAX set-up.
    """
    return environ.get(DATA_FOLDER_VARIABLE) or os.path.join(os.path.expanduser("~"), ".cache",
                                                              "error-surface-lab", "jax")


def sqlite_path(environ: Mapping[str, str] = os.environ) -> str:
    """Where the SQLite store keeps its rooms: ``<data folder>/rooms/rooms.sqlite3``.

    A folder of its own keeps the file and its ``-wal`` and ``-shm``
    companions apart from JAX's compiled code and the result files.
    """
    from rooms.sqlite_store import FILE_NAME
    return os.path.join(data_folder(environ), "rooms", FILE_NAME)


def open_store(environ: Mapping[str, str] = os.environ, limits: Limits | None = None,
               clock: Callable[[], float] = time.time) -> RoomStore:
    """The store the environment configures: Redis if ``ERROR_SURFACE_LAB_REDIS_URL`` is set, else SQLite.

    ``limits``: default ``Limits.from_environment(environ)``. Raises
    StoreUnavailable when the store cannot be used (Redis unreachable, the
    data folder not writable): the live class is then off with that
    message, and the rest of the lab works as before. Open it once per
    process and share it (it is safe for threads).
    """
    limits = limits or Limits.from_environment(environ)
    url = environ.get(REDIS_URL_VARIABLE, "").strip()
    if url:
        from rooms.redis_store import RedisRoomStore
        return RedisRoomStore(url, limits=limits, clock=clock)
    from rooms.sqlite_store import SQLiteRoomStore
    return SQLiteRoomStore(sqlite_path(environ), limits=limits, clock=clock)
