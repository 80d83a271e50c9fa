"""The default room store: one SQLite file in the app's data folder, shared by every app process on the machine.

``deploy/run_cluster.sh`` runs several app processes behind nginx; a
teacher's session may live in one and the students' in the others, so a
room cannot live in any one process's memory. One SQLite file that all of
them open is enough on one machine and needs no server.

How several processes share it safely:

- **WAL mode** (``PRAGMA journal_mode=WAL``, kept in the file): readers
  never wait for the writer and the writer never waits for readers, so
  40 followers polling a version do not hold up the teacher's change. (With
  the default rollback journal every write locks out every reader, and every
  reader delays the writer.) WAL needs the file on a local disk: its index is
  shared memory, which network file systems do not share between machines —
  for several machines, use the Redis store.
- **One writer at a time, briefly**: every change is one short transaction
  opened with ``BEGIN IMMEDIATE``, which takes the write lock at the start.
  A transaction that read first and then tried to write (``BEGIN``
  deferred) could find that another process wrote in between and fail at
  once with SQLITE_BUSY, which the busy timeout does not retry; taking the
  lock first makes it wait its turn instead. Each transaction reads and
  writes a few rows of one room and commits: microseconds of lock.
- **A busy timeout** (``BUSY_TIMEOUT_S``): a writer that finds the lock
  taken waits up to that long; only a store stuck longer than that refuses,
  with StoreUnavailable.
- ``synchronous=NORMAL``: in WAL mode a commit survives any crash of the
  app; only a power cut may lose the last commits — a few seconds of a
  class, never a corrupted file.
- Reads are single SELECT statements, each a consistent snapshot.

Connections are pooled per process and used by one thread at a time
(Streamlit runs every session's script in its own thread); a process
created by ``fork`` opens its own (a SQLite connection must not cross a fork).
"""
from __future__ import annotations

import contextlib
import json
import os
import queue
import sqlite3
import threading

from rooms.errors import StoreUnavailable
from rooms.store import Question, Room, RoomStore

BUSY_TIMEOUT_S = 5.0
FILE_NAME = "rooms.sqlite3"
POOL_SIZE = 8  # idle connections kept per process; more threads at once open more and close them after
SCHEMA_VERSION = 1  # PRAGMA user_version; raise when the tables change

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    code TEXT PRIMARY KEY,
    secret_digest TEXT NOT NULL,
    created REAL NOT NULL,
    touched REAL NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    paused INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT '{}',
    question_seq INTEGER NOT NULL DEFAULT 0,
    question_id INTEGER,
    question_kind TEXT,
    question_created REAL,
    question_choices INTEGER,
    question_revealed INTEGER,
    answer_serial INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS rooms_by_touched ON rooms (touched);
CREATE TABLE IF NOT EXISTS followers (
    code TEXT NOT NULL,
    follower TEXT NOT NULL,
    joined REAL NOT NULL,
    PRIMARY KEY (code, follower)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS answers (
    code TEXT NOT NULL,
    follower TEXT NOT NULL,
    answer TEXT NOT NULL,
    answered REAL NOT NULL,
    PRIMARY KEY (code, follower)
) WITHOUT ROWID;
"""

ROOM_COLUMNS = ("created, touched, version, paused, state, question_id, question_kind, question_created, "
                "question_choices, question_revealed, answer_serial")

COUNTS = (", (SELECT COUNT(*) FROM followers f WHERE f.code = r.code)"
          ", (SELECT COUNT(*) FROM answers a WHERE a.code = r.code)")


class SQLiteRoomStore(RoomStore):
    """Rooms in one SQLite file (module docstring: how processes share it). ``path``: the file, made if missing."""

    backend = "sqlite"

    def __init__(self, path, **kwargs):
        super().__init__(**kwargs)
        self.path = os.fspath(path)
        self._pool: queue.LifoQueue = queue.LifoQueue()
        self._pid = os.getpid()
        self._pool_guard = threading.Lock()
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)  # private, as the cache folder beside it
        except OSError as error:
            raise StoreUnavailable(f"The class-room store cannot use {folder}: {error.strerror or error}") from None
        with self._write() as db:
            if db.execute("PRAGMA user_version").fetchone()[0] not in (0, SCHEMA_VERSION):
                raise StoreUnavailable(f"{self.path} was written by another version of the lab.")
            for statement in SCHEMA.split(";"):  # not executescript: it would commit the transaction first
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def where(self) -> str:
        return self.path

    def stats(self) -> dict:
        """As ``RoomStore.stats``, and the journal mode: ``wal`` unless the file system cannot share memory."""
        with self._connection() as db:
            journal = db.execute("PRAGMA journal_mode").fetchone()[0]
        return {**super().stats(), "journal": journal}

    # ------------------------------------------------------------------ connections and transactions
    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        db.execute("PRAGMA journal_mode = WAL")  # on a file system without shared memory it stays a rollback journal
        db.execute("PRAGMA synchronous = NORMAL")
        return db

    @contextlib.contextmanager
    def _connection(self):
        """A connection for this thread's use; back to the pool after (closed if the pool is full)."""
        with self._pool_guard:
            if self._pid != os.getpid():  # a forked child: the parent's connections stay untouched (and unused)
                self._pool, self._pid = queue.LifoQueue(), os.getpid()
            pool = self._pool
        try:
            try:
                db = pool.get_nowait()
            except queue.Empty:
                db = self._open()
            try:
                yield db
            finally:
                if db.in_transaction:  # an error between BEGIN and COMMIT: never hand back an open transaction
                    db.rollback()
                if pool.qsize() < POOL_SIZE:
                    pool.put(db)
                else:
                    db.close()
        except sqlite3.Error as error:
            raise StoreUnavailable(f"The class-room store ({self.path}) failed: {error}") from None

    @contextlib.contextmanager
    def _write(self):
        """One short write transaction holding the write lock from its start (BEGIN IMMEDIATE, module docstring)."""
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.in_transaction:  # some errors (a full disk) have rolled it back already
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                return

    # ------------------------------------------------------------------ the room's row
    def _live_row(self, db, code: str, now: float, columns: str = ROOM_COLUMNS) -> tuple:
        """The room's ``columns`` (of ``rooms r``; the second must be ``touched``); refused if missing or ended."""
        row = db.execute(f"SELECT {columns} FROM rooms r WHERE r.code = ?", (code,)).fetchone()
        if row is None:
            raise self._refuse("notfound", code)
        if self._ended(row[1], now):
            raise self._refuse("expired", code)
        return row

    def _teacher_row(self, db, code: str, digest: str, now: float) -> tuple:
        row = self._live_row(db, code, now, "secret_digest, touched, version, question_id, question_revealed, "
                                            "question_seq, paused, state")
        if row[0] != digest:  # already checked in constant time; this guards against a code reused in between
            raise self._refuse("notteacher", code)
        return row

    @staticmethod
    def _touch(db, code: str, now: float, bump: bool) -> int:
        db.execute("UPDATE rooms SET touched = ?, version = version + ? WHERE code = ?", (now, int(bump), code))
        return db.execute("SELECT version FROM rooms WHERE code = ?", (code,)).fetchone()[0]

    @staticmethod
    def _question(question_id, kind, created, choices, revealed) -> Question | None:
        if question_id is None:
            return None
        return Question(int(question_id), kind, float(created), int(choices), bool(revealed))

    # ------------------------------------------------------------------ the steps
    def _forget_ended(self, now: float) -> int:
        cutoff = now - self.limits.idle_seconds - self.limits.forget_seconds
        with self._write() as db:
            codes = [c for (c,) in db.execute("SELECT code FROM rooms WHERE touched < ?", (cutoff,))]
            for code in codes:
                self._delete_rows(db, code)
        return len(codes)

    @staticmethod
    def _delete_rows(db, code: str) -> None:
        for table in ("answers", "followers", "rooms"):
            db.execute(f"DELETE FROM {table} WHERE code = ?", (code,))

    def _insert_room(self, code: str, digest: str, now: float) -> bool:
        with self._write() as db:
            if db.execute("SELECT 1 FROM rooms WHERE code = ?", (code,)).fetchone():
                return False
            live = db.execute("SELECT COUNT(*) FROM rooms WHERE touched >= ?",
                              (now - self.limits.idle_seconds,)).fetchone()[0]
            if live >= self.limits.max_rooms:
                raise self._refuse(f"storefull:{self.limits.max_rooms}", code)
            db.execute("INSERT INTO rooms (code, secret_digest, created, touched) VALUES (?, ?, ?, ?)",
                       (code, digest, now, now))
        return True

    def _secret_digest(self, code: str, now: float) -> str:
        with self._connection() as db:
            return self._live_row(db, code, now, "secret_digest, touched")[0]

    def _join(self, code: str, known: str | None, new_id: str, now: float) -> str:
        with self._connection() as db:  # a code of no live room is refused by a read: guessing takes no write lock
            self._live_row(db, code, now, "code, touched")
        with self._write() as db:
            self._live_row(db, code, now, "code, touched")
            if known is not None and db.execute("SELECT 1 FROM followers WHERE code = ? AND follower = ?",
                                                (code, known)).fetchone():
                self._touch(db, code, now, bump=False)
                return known
            count = db.execute("SELECT COUNT(*) FROM followers WHERE code = ?", (code,)).fetchone()[0]
            if count >= self.limits.max_followers:
                raise self._refuse(f"roomfull:{self.limits.max_followers}", code)
            db.execute("INSERT INTO followers (code, follower, joined) VALUES (?, ?, ?)", (code, new_id, now))
            self._touch(db, code, now, bump=False)
        return new_id

    def _read_room(self, code: str, now: float) -> Room:
        with self._connection() as db:
            row = self._live_row(db, code, now, ROOM_COLUMNS + COUNTS)  # one statement: one consistent snapshot
        (created, touched, version, paused, state, qid, qkind, qcreated, qchoices, qrevealed, serial,
         followers, answers) = row
        return Room(code=code, version=int(version), state=json.loads(state), paused=bool(paused),
                    question=self._question(qid, qkind, qcreated, qchoices, qrevealed), followers=int(followers),
                    answers=int(answers), answer_serial=int(serial), created=float(created), touched=float(touched),
                    expires=float(touched) + self.limits.idle_seconds)

    def _read_version(self, code: str, now: float) -> int:
        with self._connection() as db:
            return int(self._live_row(db, code, now, "version, touched")[0])

    def _set_state(self, code: str, digest: str, text: str, now: float) -> int:
        with self._write() as db:
            changed = self._teacher_row(db, code, digest, now)[7] != text
            if changed:
                db.execute("UPDATE rooms SET state = ? WHERE code = ?", (text, code))
            return self._touch(db, code, now, bump=changed)

    def _set_paused(self, code: str, digest: str, paused: bool, now: float) -> int:
        with self._write() as db:
            changed = bool(self._teacher_row(db, code, digest, now)[6]) != paused
            if changed:
                db.execute("UPDATE rooms SET paused = ? WHERE code = ?", (int(paused), code))
            return self._touch(db, code, now, bump=changed)

    def _ask(self, code: str, digest: str, kind: str, choices: int, now: float) -> Question:
        with self._write() as db:
            question_id = self._teacher_row(db, code, digest, now)[5] + 1
            db.execute("UPDATE rooms SET question_seq = ?, question_id = ?, question_kind = ?, question_created = ?,"
                       " question_choices = ?, question_revealed = 0 WHERE code = ?",
                       (question_id, question_id, kind, now, choices, code))
            db.execute("DELETE FROM answers WHERE code = ?", (code,))
            self._touch(db, code, now, bump=True)
        return Question(question_id, kind, now, choices, False)

    def _reveal(self, code: str, digest: str, now: float) -> int:
        with self._write() as db:
            row = self._teacher_row(db, code, digest, now)
            if row[3] is None:
                raise self._refuse("noquestion", code)
            changed = not row[4]
            if changed:
                db.execute("UPDATE rooms SET question_revealed = 1 WHERE code = ?", (code,))
            return self._touch(db, code, now, bump=changed)

    def _end_question(self, code: str, digest: str, now: float) -> int:
        with self._write() as db:
            changed = self._teacher_row(db, code, digest, now)[3] is not None
            if changed:
                db.execute("UPDATE rooms SET question_id = NULL, question_kind = NULL, question_created = NULL,"
                           " question_choices = NULL, question_revealed = NULL WHERE code = ?", (code,))
                db.execute("DELETE FROM answers WHERE code = ?", (code,))
            return self._touch(db, code, now, bump=changed)

    def _delete_room(self, code: str, digest: str, now: float) -> None:
        with self._write() as db:
            self._teacher_row(db, code, digest, now)
            self._delete_rows(db, code)

    def _answer(self, code: str, follower: str, question_id: int, kind: str, text: str, now: float) -> None:
        with self._write() as db:
            _, _, qid, qkind, qchoices, qrevealed = self._live_row(
                db, code, now, "code, touched, question_id, question_kind, question_choices, question_revealed")
            if not db.execute("SELECT 1 FROM followers WHERE code = ? AND follower = ?", (code, follower)).fetchone():
                raise self._refuse("notfollower", code)
            if qid != question_id or qrevealed:
                raise self._refuse("questionclosed", code)
            if qkind != kind:
                raise self._refuse(f"wrongkind:{qkind}", code)
            if kind == "choice" and int(text) >= qchoices:
                raise self._refuse(f"badchoice:{qchoices}", code)
            replacing = db.execute("SELECT 1 FROM answers WHERE code = ? AND follower = ?",
                                   (code, follower)).fetchone()
            if not replacing:
                count = db.execute("SELECT COUNT(*) FROM answers WHERE code = ?", (code,)).fetchone()[0]
                if count >= self.limits.max_answers:
                    raise self._refuse(f"answersfull:{self.limits.max_answers}", code)
            db.execute("INSERT OR REPLACE INTO answers (code, follower, answer, answered) VALUES (?, ?, ?, ?)",
                       (code, follower, text, now))
            db.execute("UPDATE rooms SET answer_serial = answer_serial + 1 WHERE code = ?", (code,))
            self._touch(db, code, now, bump=False)

    def _read_answers(self, code: str, now: float) -> tuple[Question | None, list[tuple[str, str]]]:
        with self._connection() as db:
            db.execute("BEGIN")  # one snapshot for the question and its answers (WAL: it blocks no writer)
            try:
                row = self._live_row(db, code, now, "code, touched, question_id, question_kind, question_created,"
                                                    " question_choices, question_revealed")
                rows = db.execute("SELECT follower, answer FROM answers WHERE code = ?", (code,)).fetchall()
            finally:
                db.execute("COMMIT")
        return self._question(*row[2:]), [(f, a) for f, a in rows]

    def _read_my_answer(self, code: str, follower: str, now: float) -> str | None:
        with self._connection() as db:
            self._live_row(db, code, now, "code, touched")  # a separate read is fine: one row of one follower
            row = db.execute("SELECT answer FROM answers WHERE code = ? AND follower = ?", (code, follower)).fetchone()
        return None if row is None else row[0]

    def _count_rooms(self, now: float) -> tuple[int, int]:
        with self._connection() as db:
            live, stored = db.execute("SELECT COALESCE(SUM(touched >= ?), 0), COUNT(*) FROM rooms",
                                      (now - self.limits.idle_seconds,)).fetchone()
        return int(live), int(stored)
