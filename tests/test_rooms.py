"""The class-room store (rooms/): every test runs against SQLite and against a real Redis server.

The ``make_store`` fixture is parametrized over both backends: an SQLite
file in the test's tmp_path, and a Redis store (its own key prefix per test)
on a ``redis-server`` this module starts on a free loopback port with a
temporary folder and no persistence. Without redis-server (or the redis
package) the Redis half is skipped with the reason, and fails in CI, where
``.ci/run`` installs it. Time is a fake clock the test moves, never a sleep.

What is covered (issue 29's Tests and hostile-input lines, for the store):
create, join, leading only with the secret, following state and version,
pause, questions and answers, expiry, every limit, two OS processes writing
to one room at once, and hostile input — forged codes and secrets, huge and
malformed answers and states, 10,000 join attempts, a room flooded with
answers — refused without losing anything in that room or any other.
"""
from __future__ import annotations

import ast
import concurrent.futures
import itertools
import math
import multiprocessing
import os
import random
import shutil
import socket
import string
import subprocess
import time
import uuid
from pathlib import Path

import pytest

import rooms
from rooms import codes
from rooms.redis_store import RedisRoomStore
from rooms.sqlite_store import SQLiteRoomStore

ROOT = Path(__file__).resolve().parents[1]
START = 1_000_000.0  # the fake clock's first reading (seconds)


def need(condition: bool, why: str) -> None:
    """Skip the test when ``condition`` fails; fail it in CI, where .ci/run installs what it needs."""
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{why} (required in CI)")
        pytest.skip(why)


class FakeClock:
    """A clock the test moves: ``clock()`` reads it, ``clock.advance(s)`` moves it on."""

    def __init__(self, now: float = START):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """redis://127.0.0.1:PORT/0 of a redis-server started for this module (no persistence), stopped after."""
    server = shutil.which("redis-server")
    need(server is not None, "redis-server is not installed (apt-get install redis-server; .ci/run does)")
    try:
        import redis
    except ImportError:
        need(False, "the redis package is not installed (pip install -r requirements.txt)")
    folder = tmp_path_factory.mktemp("redis")
    for _ in range(5):  # another process may take the free port before the server binds it: try another
        port = free_port()
        log = open(folder / f"redis-{port}.log", "w")
        process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                                    "--save", "", "--appendonly", "no", "--daemonize", "no"],
                                   stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        deadline = time.monotonic() + 15
        while process.poll() is None and time.monotonic() < deadline:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        client.close()
        if process.poll() is None and time.monotonic() < deadline:
            break
        process.kill()
        process.wait()
        log.close()
    else:
        pytest.fail(f"redis-server did not start; see {folder}")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(params=["sqlite", "redis"])
def make_store(request, tmp_path):
    """make_store(limits=None, clock=<the test's fake clock>, **kwargs) -> a store of this run's backend.

    Every store one test makes shares one place (file or key prefix), as app
    processes do. Attributes: ``backend``, ``clock``, ``recipe`` (what another
    process needs to open the same place) and ``environ`` (what open_store
    needs to pick it).
    """
    clock = FakeClock()
    made = []
    if request.param == "sqlite":
        where, prefix = str(tmp_path / "data" / "rooms" / "rooms.sqlite3"), None
        environ = {"ERROR_SURFACE_LAB_CACHE": str(tmp_path / "data")}
    else:
        where, prefix = request.getfixturevalue("redis_url"), f"test-{uuid.uuid4().hex}:"
        environ = {"ERROR_SURFACE_LAB_REDIS_URL": where}

    def make(limits: rooms.Limits | None = None, clock=clock, **kwargs) -> rooms.RoomStore:
        store = opened((request.param, where, prefix), limits, clock, **kwargs)
        made.append(store)
        return store

    make.backend, make.clock, make.recipe, make.environ = request.param, clock, (request.param, where, prefix), environ
    yield make
    for store in made:
        store.close()


def opened(recipe, limits=None, clock=time.time, **kwargs) -> rooms.RoomStore:
    """The store a ``make_store.recipe`` names (also in another process)."""
    backend, where, prefix = recipe
    if backend == "sqlite":
        return SQLiteRoomStore(where, limits=limits, clock=clock, **kwargs)
    return RedisRoomStore(where, prefix=prefix, limits=limits, clock=clock, **kwargs)


@pytest.fixture
def store(make_store) -> rooms.RoomStore:
    return make_store()


def snapshot(store, keys) -> list:
    """Everything the class and the teacher can read of these rooms: for 'nothing else changed'."""
    return [(store.room(k.code), store.answers(k.code, k.secret)) for k in keys]


# ---------------------------------------------------------------------------------------------- create and join
def test_a_new_room_has_a_typable_code_and_a_long_secret(store):
    key, other = store.create_room(), store.create_room()
    assert len(key.code) == codes.CODE_LENGTH and set(key.code) <= set(codes.CODE_ALPHABET)
    assert not set("0O1I") & set(codes.CODE_ALPHABET)
    assert key.code != other.code and key.secret != other.secret
    assert len(key.secret) == codes.SECRET_LENGTH and codes.SECRET_BYTES * 8 >= 128
    assert key.secret not in repr(key)  # a logged key shows no secret
    room = store.room(key.code)
    assert (room.version, room.state, room.paused, room.question, room.followers, room.answers) == (1, {}, False,
                                                                                                    None, 0, 0)
    assert room.created == room.touched == START and room.expires == START + store.limits.idle_seconds
    assert store.stats()["live_rooms"] == 2 and store.stats()["backend"] == store.backend
    if store.backend == "sqlite":
        assert store.stats()["journal"] == "wal"  # readers and the writer never wait for each other


def test_a_code_is_read_as_people_type_it(store):
    key = store.create_room()
    typed = f" {key.code[:3].lower()}-{key.code[3:]} "
    assert store.room(typed).code == key.code
    assert store.check_teacher(typed, key.secret) == key.code


def test_a_code_collision_draws_another_code(make_store):
    drawn = iter(["AAAAAA", "AAAAAA", "AAAAAA", "BBBBBB"])
    store = make_store(new_code=lambda: next(drawn))
    first, second = store.create_room(), store.create_room()
    assert (first.code, second.code) == ("AAAAAA", "BBBBBB")
    assert store.check_teacher("AAAAAA", first.secret) and store.check_teacher("BBBBBB", second.secret)
    with pytest.raises(rooms.NotTheTeacher):
        store.check_teacher("AAAAAA", second.secret)
    stuck = make_store(new_code=lambda: "AAAAAA")
    with pytest.raises(rooms.StoreFull, match="code"):
        stuck.create_room()


def test_joining_gives_anonymous_ids_and_a_returning_browser_keeps_its_place(store):
    key = store.create_room()
    a, b = store.join(key.code), store.join(key.code)
    assert a != b and len(a) == codes.FOLLOWER_LENGTH
    assert store.join(key.code, a) == a  # a reconnect takes no second place
    assert store.room(key.code).followers == 2
    stranger = codes.new_follower_id()  # well-formed, but this room never handed it out
    c = store.join(key.code, stranger)
    assert c != stranger and store.room(key.code).followers == 3
    with pytest.raises(rooms.NotAFollower):
        store.join(key.code, "not an id")
    assert store.version(key.code) == 1  # joins do not make followers re-render


# ---------------------------------------------------------------------------------------------- leading
def test_only_the_teacher_secret_leads(store):
    key, other = store.create_room(), store.create_room()
    store.set_state(key.code, key.secret, {"page": "playground"})
    before = snapshot(store, [key, other])
    forged = [None, "", key.code, other.secret, codes.new_teacher_secret(), key.secret[:-1],
              key.secret + "A", key.secret.upper() if key.secret.upper() != key.secret else key.secret.lower(),
              "x" * 1_000_000, key.secret.encode(), 12345, ["a"], " " + key.secret[1:]]
    for secret in forged:
        for action in (lambda: store.check_teacher(key.code, secret),
                       lambda: store.set_state(key.code, secret, {"page": "forged"}),
                       lambda: store.set_paused(key.code, secret, True),
                       lambda: store.ask(key.code, secret, "point"),
                       lambda: store.reveal(key.code, secret),
                       lambda: store.end_question(key.code, secret),
                       lambda: store.answers(key.code, secret),
                       lambda: store.close_room(key.code, secret)):
            with pytest.raises(rooms.NotTheTeacher, match=key.code):
                action()
    assert snapshot(store, [key, other]) == before
    assert store.check_teacher(key.code, key.secret) == key.code


def test_followers_see_the_teacher_state_and_a_version_that_rises_on_every_change(store):
    key = store.create_room()
    follower = store.join(key.code)
    state = {"page": "playground", "widgets": {"lr": 0.05, "optimizer": "adam", "starts": [[1.0, -2.0]],
                                                "steps": 120, "momentum": None, "log": True, "label": "Adam 学习率"}}
    assert store.set_state(key.code, key.secret, state) == 2
    assert store.version(key.code) == 2 and store.room(key.code).state == state
    assert store.set_state(key.code, key.secret, state) == 2  # the same state: no re-render for anyone
    seen = [store.set_state(key.code, key.secret, {**state, "page": p}) for p in ("a", "b", "c")]
    assert seen == [3, 4, 5] and store.room(key.code).state["page"] == "c"
    assert store.my_answer(key.code, follower) is None


def test_pause_and_resume(store):
    key = store.create_room()
    assert store.set_paused(key.code, key.secret, True) == 2 and store.room(key.code).paused
    assert store.set_paused(key.code, key.secret, True) == 2  # already paused
    assert store.set_paused(key.code, key.secret, False) == 3 and not store.room(key.code).paused
    with pytest.raises(rooms.BadInput):
        store.set_paused(key.code, key.secret, "yes")


# ---------------------------------------------------------------------------------------------- questions
def test_answers_are_one_per_follower_replaced_anonymous_and_counted(store):
    key = store.create_room()
    students = [store.join(key.code) for _ in range(3)]
    question = store.ask(key.code, key.secret, "point")
    assert (question.id, question.kind, question.choices, question.revealed) == (1, "point", 0, False)
    assert store.version(key.code) == 2
    for i, s in enumerate(students):
        store.answer(key.code, s, question.id, (float(i), -1.5))
    store.answer(key.code, students[0], question.id, [0.25, 0.75])  # a second answer replaces the first
    room = store.room(key.code)
    assert (room.answers, room.followers, room.answer_serial, room.version) == (3, 3, 4, 2)
    seen = store.answers(key.code, key.secret)
    assert seen.question == question
    assert sorted(seen.values) == [(0.25, 0.75), (1.0, -1.5), (2.0, -1.5)]
    assert not any(s in repr(seen) for s in students)  # nothing says who answered what
    assert store.my_answer(key.code, students[0]) == (0.25, 0.75)
    with pytest.raises(rooms.NotTheTeacher):  # the class predicts before it sees the others
        store.answers(key.code)

    assert store.reveal(key.code, key.secret) == 3 and store.reveal(key.code, key.secret) == 3
    assert sorted(store.answers(key.code).values) == sorted(seen.values)
    with pytest.raises(rooms.QuestionClosed):  # revealed: no more answers
        store.answer(key.code, students[1], question.id, (9.0, 9.0))

    choice = store.ask(key.code, key.secret, "choice", 4)
    assert choice.id == 2 and store.room(key.code).answers == 0  # a new question starts with no answers
    with pytest.raises(rooms.QuestionClosed):  # an answer to the earlier question
        store.answer(key.code, students[1], question.id, 1)
    with pytest.raises(rooms.BadAnswer, match="one of its choices"):
        store.answer(key.code, students[1], choice.id, (1.0, 2.0))
    with pytest.raises(rooms.BadAnswer, match="4 choices"):
        store.answer(key.code, students[1], choice.id, 4)
    store.answer(key.code, students[1], choice.id, 3)
    store.answer(key.code, students[2], choice.id, 0)
    assert sorted(store.answers(key.code, key.secret).values) == [0, 3]
    assert store.end_question(key.code, key.secret) == 5 and store.end_question(key.code, key.secret) == 5
    room = store.room(key.code)
    assert room.question is None and room.answers == 0
    with pytest.raises(rooms.QuestionClosed):
        store.answer(key.code, students[1], choice.id, 1)
    with pytest.raises(rooms.QuestionClosed):
        store.reveal(key.code, key.secret)


def test_a_question_is_a_point_or_a_few_choices(store):
    key = store.create_room()
    for kind, choices in (("point", 3), ("choice", None), ("choice", 1), ("choice", store.limits.max_choices + 1),
                          ("choice", True), ("choice", 2.0), ("essay", None), (None, None)):
        with pytest.raises(rooms.BadQuestion):
            store.ask(key.code, key.secret, kind, choices)
    assert store.room(key.code).version == 1


def test_only_followers_answer(store):
    key, other = store.create_room(), store.create_room()
    question = store.ask(key.code, key.secret, "point")
    outsider = store.join(other.code)
    for follower in (outsider, codes.new_follower_id()):
        with pytest.raises(rooms.NotAFollower):
            store.answer(key.code, follower, question.id, (0.0, 0.0))
    for follower in (None, "", "x" * 10_000, 7):
        with pytest.raises(rooms.NotAFollower):
            store.answer(key.code, follower, question.id, (0.0, 0.0))
    assert store.room(key.code).answers == 0


# ---------------------------------------------------------------------------------------------- expiry
def test_an_idle_room_ends_and_says_so_then_is_forgotten(make_store):
    limits = rooms.Limits(idle_seconds=600, forget_seconds=3600)
    store, clock = make_store(limits), make_store.clock
    key = store.create_room()
    follower = store.join(key.code)
    question = store.ask(key.code, key.secret, "point")
    clock.advance(599)
    store.answer(key.code, follower, question.id, (1.0, 1.0))  # activity restarts the idle time
    clock.advance(600)
    assert store.version(key.code) == 2  # live to the second; a follower polling is not activity:
    clock.advance(1)
    for action in (lambda: store.room(key.code), lambda: store.version(key.code), lambda: store.join(key.code),
                   lambda: store.join(key.code, follower), lambda: store.check_teacher(key.code, key.secret),
                   lambda: store.set_state(key.code, key.secret, {"a": 1}),
                   lambda: store.set_paused(key.code, key.secret, True),
                   lambda: store.ask(key.code, key.secret, "point"), lambda: store.reveal(key.code, key.secret),
                   lambda: store.answer(key.code, follower, question.id, (2.0, 2.0)),
                   lambda: store.answers(key.code, key.secret), lambda: store.my_answer(key.code, follower),
                   lambda: store.close_room(key.code, key.secret)):
        with pytest.raises(rooms.RoomExpired, match=f"{key.code} has ended .idle for more than 10 minutes"):
            action()
    assert store.stats()["live_rooms"] == 0 and store.stats()["stored_rooms"] == 1
    clock.advance(3600)
    store.create_room()  # a new room clears out those ended long enough ago
    with pytest.raises(rooms.RoomNotFound):
        store.room(key.code)
    assert store.stats()["stored_rooms"] == 1


# ---------------------------------------------------------------------------------------------- limits
def test_the_store_holds_at_most_max_rooms_live_rooms(make_store):
    store, clock = make_store(rooms.Limits(max_rooms=3, idle_seconds=100)), make_store.clock
    keys = [store.create_room() for _ in range(3)]
    for k in keys:
        store.set_state(k.code, k.secret, {"mine": k.code})
    before = snapshot(store, keys)
    with pytest.raises(rooms.StoreFull, match="3 are running"):
        store.create_room()
    assert snapshot(store, keys) == before and store.stats()["stored_rooms"] == 3
    clock.advance(60)
    store.join(keys[0].code)  # keeps room 0 live
    clock.advance(60)
    assert len({store.create_room().code, store.create_room().code}) == 2  # two ended rooms free their places
    with pytest.raises(rooms.StoreFull):
        store.create_room()
    assert store.room(keys[0].code).state == {"mine": keys[0].code}


def test_a_room_holds_at_most_max_followers(make_store):
    store = make_store(rooms.Limits(max_followers=5))
    key, other = store.create_room(), store.create_room()
    followers = [store.join(key.code) for _ in range(5)]
    with pytest.raises(rooms.RoomFull, match="5 followers"):
        store.join(key.code)
    with pytest.raises(rooms.RoomFull):
        store.join(key.code, codes.new_follower_id())
    assert [store.join(key.code, f) for f in followers] == followers  # returning students still get in
    assert store.room(key.code).followers == 5
    store.join(other.code)  # another room is not affected
    assert store.room(other.code).followers == 1


def test_a_question_holds_at_most_max_answers_and_keeps_them(make_store):
    store = make_store(rooms.Limits(max_followers=10, max_answers=3))
    key = store.create_room()
    students = [store.join(key.code) for _ in range(5)]
    question = store.ask(key.code, key.secret, "choice", 3)
    for i, s in enumerate(students[:3]):
        store.answer(key.code, s, question.id, i)
    with pytest.raises(rooms.RoomFull, match=r"answers it can hold \(3\)"):
        store.answer(key.code, students[3], question.id, 0)
    store.answer(key.code, students[0], question.id, 2)  # replacing is not a new answer
    assert sorted(store.answers(key.code, key.secret).values) == [1, 2, 2]
    assert store.my_answer(key.code, students[3]) is None


def test_the_teacher_state_is_small_plain_json(make_store):
    store = make_store(rooms.Limits(max_state_bytes=200, max_state_depth=4))
    key = store.create_room()
    good = {"page": "p", "x": [1, 2.5, True, None, {"k": "v"}]}
    assert store.set_state(key.code, key.secret, good) == 2
    nested = {"a": {"b": {"c": {"d": 1}}}}
    fits = {"t": "x" * (200 - len('{"t":""}'))}
    assert store.set_state(key.code, key.secret, fits) == 3  # exactly the limit
    assert store.set_state(key.code, key.secret, good) == 4
    bad = [{"t": "x" * 200}, {"t": "é" * 100}, {f"k{i}": i for i in range(100)}, list(range(10)), "page", None,
           {"a": {"b": {"c": {"d": {"e": 1}}}}}, {1: "one"}, {"n": math.nan}, {"n": math.inf}, {"n": 2**60},
           {"s": {1, 2}}, {"f": len}, {"b": b"bytes"}, {"u": "\ud800"}, {"deep": [[[[[[[[[]]]]]]]]]},
           dict.fromkeys((str(i) for i in range(200_000)), 0)]
    for state in bad:
        with pytest.raises(rooms.BadState):
            store.set_state(key.code, key.secret, state)
    assert store.set_state(key.code, key.secret, nested) == 5
    assert store.room(key.code).state == nested


# ---------------------------------------------------------------------------------------------- two processes
def write_from_another_process(recipe, code, secret, question_id, n, start, results):
    """In a fresh process: n state changes and n joins-and-answers (each answer then replaced) on one room."""
    try:
        store = opened(recipe, rooms.Limits(max_followers=1000, max_answers=1000))
        start.wait(60)
        versions = []
        for i in range(n):
            versions.append(store.set_state(code, secret, {"writer": os.getpid(), "i": i}))
            follower = store.join(code)
            store.answer(code, follower, question_id, (float(i), 0.0))
            store.answer(code, follower, question_id, (float(i), float(os.getpid())))
        results.put(("ok", os.getpid(), versions))
    except BaseException as error:  # noqa: BLE001 - the parent reports it
        results.put(("error", os.getpid(), repr(error)))


def test_two_processes_writing_at_once_lose_nothing(make_store):
    store = make_store(rooms.Limits(max_followers=1000, max_answers=1000), clock=time.time)
    key = store.create_room()
    question = store.ask(key.code, key.secret, "point")
    first = store.version(key.code)
    n = 100  # per process: 100 state changes, 100 joins, 200 answers
    context = multiprocessing.get_context("spawn")  # no fork of a process that holds connections and threads
    start, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=write_from_another_process,
                               args=(make_store.recipe, key.code, key.secret, question.id, n, start, results))
               for _ in range(2)]
    for w in workers:
        w.start()
    try:
        reports = [results.get(timeout=300) for _ in workers]
    finally:
        for w in workers:
            w.join(timeout=60)
            if w.is_alive():
                w.kill()
    assert all(r[0] == "ok" for r in reports), reports
    for _, _, versions in reports:
        assert all(a < b for a, b in itertools.pairwise(versions)), "a process saw its versions go back"
    every = sorted(reports[0][2] + reports[1][2])
    assert every == list(range(first + 1, first + 1 + 2 * n)), "two changes got one version, or one was lost"
    room = store.room(key.code)
    assert (room.version, room.followers, room.answers, room.answer_serial) == (first + 2 * n, 2 * n, 2 * n, 4 * n)
    pids = {pid for _, pid, _ in reports}
    assert sorted(store.answers(key.code, key.secret).values) == sorted((float(i), float(p)) for p in pids
                                                                          for i in range(n))
    assert room.state["writer"] in pids and room.state["i"] == n - 1  # the last change is a last change


def test_threads_sharing_one_store_lose_nothing(make_store):
    # Streamlit runs every session's script in its own thread, all sharing the process's one store.
    store = make_store(rooms.Limits(max_followers=1000, max_answers=1000))
    key = store.create_room()
    question = store.ask(key.code, key.secret, "choice", 8)
    first = store.version(key.code)

    def session(t: int) -> list[int]:
        versions = []
        for i in range(25):
            versions.append(store.set_state(key.code, key.secret, {"thread": t, "i": i}))
            store.answer(key.code, store.join(key.code), question.id, t)
        return versions

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(session, range(8)))
    assert all(a < b for versions in seen for a, b in itertools.pairwise(versions))
    assert sorted(v for versions in seen for v in versions) == list(range(first + 1, first + 1 + 200))
    assert sorted(store.answers(key.code, key.secret).values) == sorted(t for t in range(8) for _ in range(25))


# ---------------------------------------------------------------------------------------------- hostile input
FORGED_CODES = ["", "ABC", "ABCDEFG", "ABCDE0", "ABCDEO", "ABCDE1", "ABCDEI", "ABC DE!", "ÄBCDEF", "ABCDE\n",
                "ABCD\x00F", "' OR 1=1 --", "*", "ABCDE*", "x" * 10_000_000, None, 123456, b"ABCDEF", ["ABCDEF"],
                "\u0661\u0662\u0663\u0664\u0665\u0666", "ＡＢＣＤＥＦ"]


def test_forged_room_codes_are_refused_before_any_store_is_asked(store):
    key = store.create_room()
    follower = store.join(key.code)
    before = snapshot(store, [key])
    for code in FORGED_CODES:
        for action in (lambda: store.room(code), lambda: store.version(code), lambda: store.join(code),
                       lambda: store.answer(code, follower, 1, (0.0, 0.0)),
                       lambda: store.set_state(code, key.secret, {"x": 1}), lambda: store.answers(code)):
            with pytest.raises(rooms.BadCode):
                action()
    absent = next(c for c in ("ZZZZZZ", "YYYYYY") if c != key.code)
    for action in (lambda: store.room(absent), lambda: store.join(absent), lambda: store.version(absent),
                   lambda: store.set_state(absent, key.secret, {"x": 1})):
        with pytest.raises(rooms.RoomNotFound, match=absent):
            action()
    assert snapshot(store, [key]) == before


def test_huge_or_malformed_answers_are_refused_and_nothing_is_lost(store):
    key = store.create_room()
    students = [store.join(key.code) for _ in range(2)]
    point = store.ask(key.code, key.secret, "point")
    store.answer(key.code, students[0], point.id, (0.5, -0.5))
    before = snapshot(store, [key])
    malformed = [None, "", "1,2", "x" * 1_000_000, (1.0,), (1.0, 2.0, 3.0), [0.0] * 1_000_000, (math.nan, 0.0),
                 (0.0, math.inf), (-math.inf, 1.0), (1e300, 0.0), (True, False), ("1", "2"), {"x": 1, "y": 2},
                 (None, None), ((1.0, 2.0), 3.0), 1.5, -1, True, 10**100, store.limits.max_choices, object(),
                 b"\x00" * 100]
    for value in malformed:
        with pytest.raises(rooms.BadAnswer):
            store.answer(key.code, students[1], point.id, value)
        with pytest.raises(rooms.BadAnswer):  # and for the first student, whose answer stays
            store.answer(key.code, students[0], point.id, value)
    for question_id in (None, "1", 1.0, True, 0, -1, 2, 10**30):
        with pytest.raises(rooms.QuestionClosed):
            store.answer(key.code, students[1], question_id, (0.0, 0.0))
    assert snapshot(store, [key]) == before
    assert store.my_answer(key.code, students[0]) == (0.5, -0.5)


def test_ten_thousand_join_attempts_with_random_codes(make_store):
    store = make_store()
    keys = [store.create_room() for _ in range(3)]
    for k in keys:
        store.set_state(k.code, k.secret, {"page": k.code})
        q = store.ask(k.code, k.secret, "point")
        store.answer(k.code, store.join(k.code), q.id, (1.0, 2.0))
    before, stats = snapshot(store, keys), store.stats()
    asked = []  # codes that reached the store: garbage must not
    real_join = store._join
    store._join = lambda code, *args: (asked.append(code), real_join(code, *args))[1]
    rng = random.Random(29)
    taken = {k.code for k in keys}
    refused = {rooms.BadCode: 0, rooms.RoomNotFound: 0}
    for i in range(10_000):
        if i % 2:
            code = "".join(rng.choice(codes.CODE_ALPHABET) for _ in range(codes.CODE_LENGTH))
            if code in taken:
                continue
        else:
            code = "".join(rng.choice(string.printable) for _ in range(rng.choice((0, 3, 6, 7, 40))))
            code = code if rng.random() < 0.99 else code * 100_000
        try:
            store.join(code)
        except (rooms.BadCode, rooms.RoomNotFound) as error:
            refused[type(error)] += 1
        else:
            pytest.fail(f"joined {code!r}")
    assert refused[rooms.RoomNotFound] >= 4_900 and refused[rooms.BadCode] >= 4_900
    assert len(asked) == refused[rooms.RoomNotFound]  # every malformed code was refused before the store was asked
    assert snapshot(store, keys) == before and store.stats() == stats


def test_a_room_flooded_with_answers_keeps_its_cap_its_answers_and_its_neighbours(make_store):
    store = make_store(rooms.Limits(max_followers=20, max_answers=20))
    flooded, neighbour = store.create_room(), store.create_room()
    honest = [store.join(flooded.code) for _ in range(5)]
    q = store.ask(flooded.code, flooded.secret, "point")
    for i, s in enumerate(honest):
        store.answer(flooded.code, s, q.id, (float(i), 0.0))
    nq = store.ask(neighbour.code, neighbour.secret, "choice", 3)
    for choice in (0, 1, 2):
        store.answer(neighbour.code, store.join(neighbour.code), nq.id, choice)
    neighbour_before = snapshot(store, [neighbour])

    flood = []
    while True:  # the flooder takes every free place...
        try:
            flood.append(store.join(flooded.code))
        except rooms.RoomFull:
            break
    assert len(flood) == 15
    for round_ in range(10):  # ...answers again and again from each...
        for f in flood:
            store.answer(flooded.code, f, q.id, (100.0 + round_, 100.0))
    refused = 0
    for _ in range(500):  # ...and from ids it made up
        try:
            store.answer(flooded.code, codes.new_follower_id(), q.id, (666.0, 666.0))
        except rooms.NotAFollower:
            refused += 1
    assert refused == 500
    room = store.room(flooded.code)
    assert (room.followers, room.answers) == (20, 20)
    values = store.answers(flooded.code, flooded.secret).values
    assert sorted(v for v in values if v[1] == 0.0) == [(float(i), 0.0) for i in range(5)]  # the class's answers
    assert sorted(values)[5:] == [(109.0, 100.0)] * 15
    assert snapshot(store, [neighbour]) == neighbour_before


def test_a_closed_room_is_gone(store):
    key, other = store.create_room(), store.create_room()
    follower = store.join(key.code)
    store.close_room(key.code, key.secret)
    for action in (lambda: store.room(key.code), lambda: store.join(key.code, follower),
                   lambda: store.check_teacher(key.code, key.secret)):
        with pytest.raises(rooms.RoomNotFound):
            action()
    assert store.room(other.code).version == 1 and store.stats()["stored_rooms"] == 1


# ---------------------------------------------------------------------------------------------- configuration
def test_open_store_picks_the_store_from_the_environment(make_store):
    store = rooms.open_store(make_store.environ)
    assert store.backend == make_store.backend
    if make_store.backend == "sqlite":
        assert store.where() == os.path.join(make_store.environ["ERROR_SURFACE_LAB_CACHE"], "rooms",
                                             "rooms.sqlite3")
        assert rooms.sqlite_path({}) == os.path.expanduser("~/.cache/error-surface-lab/jax/rooms/rooms.sqlite3")
    else:
        assert store.where() == make_store.environ["ERROR_SURFACE_LAB_REDIS_URL"]
    key = store.create_room()
    assert store.room(key.code).version == 1
    store.close_room(key.code, key.secret)
    store.close()
    limits = rooms.Limits.from_environment({"ERROR_SURFACE_LAB_ROOM_IDLE_MINUTES": "45",
                                            "ERROR_SURFACE_LAB_ROOMS_MAX": "7",
                                            "ERROR_SURFACE_LAB_ROOM_FOLLOWERS_MAX": "120"})
    assert (limits.idle_seconds, limits.max_rooms, limits.max_followers, limits.max_answers) == (2700, 7, 120, 120)
    with pytest.raises(ValueError, match="ERROR_SURFACE_LAB_ROOMS_MAX"):
        rooms.Limits.from_environment({"ERROR_SURFACE_LAB_ROOMS_MAX": "many"})
    with pytest.raises(ValueError, match="max_followers"):
        rooms.Limits.from_environment({"ERROR_SURFACE_LAB_ROOM_FOLLOWERS_MAX": "0"})


def test_a_store_that_cannot_work_says_so(make_store, tmp_path):
    if make_store.backend == "sqlite":
        (tmp_path / "a-file").write_text("")
        environ = {"ERROR_SURFACE_LAB_CACHE": str(tmp_path / "a-file" / "data")}
    else:
        environ = {"ERROR_SURFACE_LAB_REDIS_URL": f"redis://:hunter2@127.0.0.1:{free_port()}/0"}
    with pytest.raises(rooms.StoreUnavailable) as refused:
        rooms.open_store(environ)
    assert "hunter2" not in str(refused.value)
    with pytest.raises(rooms.StoreUnavailable):
        rooms.open_store({"ERROR_SURFACE_LAB_REDIS_URL": "nonsense://here"})


def test_the_room_store_imports_neither_streamlit_nor_jax():
    for path in sorted((ROOT / "rooms").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                assert name.split(".")[0] not in {"streamlit", "jax", "numpy", "plotly", "caches", "controls",
                                                  "figures", "app_pages"}, f"{path.name} imports {name}"
