"""The class-room store's interface, ``RoomStore``: what a room holds and who may change it.

A **room** is a live class: a public code students type, the teacher's
secret (kept as a digest), the teacher's current *state* (page and widget
values) with a *version* that rises on every change, a *paused* flag, the
current *question* and its anonymous *answers*, and the *followers* (random
ids, one per browser that joined).

Who may do what:

- anyone with the code: ``join``, read the ``room`` and its ``version``,
  ``answer`` the current question (with the follower id ``join`` handed
  out), read the answers once the teacher has revealed them;
- only with the teacher secret: ``set_state``, ``set_paused``, ``ask``,
  ``reveal``, ``end_question``, read the answers before the reveal, and
  ``close_room``.

This class does everything both stores share, so they behave the same by
construction: every argument is checked against a whitelist (``rooms.codes``,
``rooms.values``) before a store is asked, the secret is compared in constant
time here, the clock is read here (one ``now`` per call, injectable for
tests), and refusals come from one table (``rooms.errors.refusal``). A
store (``SQLiteRoomStore``, ``RedisRoomStore``) implements only the small
``_``-methods: each one a single atomic step on the shared data, so two
app processes — or two machines, with Redis — can act on one room at once
without losing a change.

The *version* is what followers poll: a cheap read of one integer, which
rises on every teacher change (state, pause, question, reveal, end) and
only then; joins and answers do not move it (they would make every
follower re-render for nothing). The teacher's view polls ``answer_serial``
(in ``room``), which rises on every answer, a replaced one included.
"""
from __future__ import annotations

import abc
import dataclasses
import time
from collections.abc import Callable

from rooms import codes, values
from rooms.errors import BadInput, NotTheTeacher, RoomError, refusal
from rooms.limits import Limits

CODE_ATTEMPTS = 20  # fresh codes tried before giving up; with 200 rooms in 10⁹ codes one retry is already rare


@dataclasses.dataclass(frozen=True)
class TeacherKey:
    """What ``create_room`` hands the teacher: the public code and the secret of the control link (shown once)."""

    code: str
    secret: str = dataclasses.field(repr=False)  # never in a log line or a traceback's locals by accident


@dataclasses.dataclass(frozen=True)
class Question:
    """The room's current question: ``id`` counts questions within the room (1, 2, …)."""

    id: int
    kind: str  # "point" or "choice"
    created: float  # the store clock's time, seconds
    choices: int  # options of a "choice" question; 0 for a "point"
    revealed: bool  # after the reveal: no more answers; the class may read them


@dataclasses.dataclass(frozen=True)
class Room:
    """What a follower (or the teacher) reads: everything but the secret and the answers themselves."""

    code: str
    version: int
    state: dict
    paused: bool
    question: Question | None
    followers: int
    answers: int  # answers to the current question
    answer_serial: int  # rises on every answer, a replaced one included: the teacher's view polls it
    created: float
    touched: float  # the last change (teacher, join or answer)
    expires: float  # touched + the idle limit: the room ends after this unless changed


@dataclasses.dataclass(frozen=True)
class Answers:
    """The current question and its answers, without follower ids (in an order that says nothing of who)."""

    question: Question | None
    values: list  # (x, y) tuples or choice indices


class RoomStore(abc.ABC):
    """A store of class rooms shared by every app process (module docstring: who may do what).

    limits: what the store allows (``rooms.limits.Limits``).
    clock: seconds since the epoch, read once per call (tests pass a fake one).
    new_code: where fresh room codes come from (tests force collisions with it).
    """

    backend: str = ""  # "sqlite" or "redis": for diagnostics

    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.time,
                 new_code: Callable[[], str] = codes.new_room_code):
        self.limits = limits or Limits()
        self.clock = clock
        self._new_code = new_code

    # ------------------------------------------------------------------ the teacher
    def create_room(self) -> TeacherKey:
        """A new room with a fresh code and teacher secret; StoreFull when the store holds ``max_rooms`` live ones.

        Rooms ended longer than ``forget_seconds`` ago are deleted first. A
        code already in use (a live or an ended room) is never reused: another
        one is drawn, up to ``CODE_ATTEMPTS`` times.
        """
        secret = codes.new_teacher_secret()
        digest = codes.teacher_secret_digest(secret)
        now = self.clock()
        self._forget_ended(now)
        for _ in range(CODE_ATTEMPTS):
            code = codes.room_code(self._new_code())
            if self._insert_room(code, digest, now):
                return TeacherKey(code, secret)
        raise refusal("nocode", "")

    def check_teacher(self, code, secret) -> str:
        """The room's code if ``secret`` leads it; NotTheTeacher (or RoomNotFound, RoomExpired) otherwise."""
        return self._teacher(code, secret, self.clock())[0]

    def set_state(self, code, secret, state: dict) -> int:
        """Make ``state`` (page and widget values) what the class follows; returns the room's version.

        The version rises by one if the state differs from the stored one; the
        same state again only counts as activity (the room's idle time restarts).
        """
        text = values.state_json(state, self.limits)
        now = self.clock()
        code, digest = self._teacher(code, secret, now)
        return self._set_state(code, digest, text, now)

    def set_paused(self, code, secret, paused: bool) -> int:
        """Pause (students' controls locked while the teacher talks) or resume; returns the version."""
        if not isinstance(paused, bool):
            raise BadInput("Paused is true or false.")
        now = self.clock()
        code, digest = self._teacher(code, secret, now)
        return self._set_paused(code, digest, paused, now)

    def ask(self, code, secret, kind: str, choices: int | None = None) -> Question:
        """Open a new question (``"point"``, or ``"choice"`` with 2…max_choices options); returns it.

        It replaces the current question, whose answers are deleted with it:
        read them (``answers``) before asking the next one.
        """
        n = values.question_choices(kind, choices, self.limits)
        now = self.clock()
        code, digest = self._teacher(code, secret, now)
        return self._ask(code, digest, kind, n, now)

    def reveal(self, code, secret) -> int:
        """Close the current question to answers and show its answers to the class; returns the version.

        QuestionClosed when there is no question; revealing twice changes nothing.
        """
        now = self.clock()
        code, digest = self._teacher(code, secret, now)
        return self._reveal(code, digest, now)

    def end_question(self, code, secret) -> int:
        """Remove the current question and its answers (the class is back to following); returns the version."""
        now = self.clock()
        code, digest = self._teacher(code, secret, now)
        return self._end_question(code, digest, now)

    def close_room(self, code, secret) -> None:
        """Delete the room and everything in it now (its code then says RoomNotFound)."""
        now = self.clock()
        code, digest = self._teacher(code, secret, now)
        self._delete_room(code, digest, now)

    # ------------------------------------------------------------------ the class
    def join(self, code, follower: str | None = None) -> str:
        """Join a room as a follower; returns the follower id to keep (in the session) for answering.

        ``follower``: the id this browser had (a reconnect): kept if the room
        knows it, so a returning student takes no second place; an id the
        room does not know gets a fresh one. RoomFull at ``max_followers``.
        """
        code = codes.room_code(code)
        known = None if follower is None else codes.follower_id(follower)
        return self._join(code, known, codes.new_follower_id(), self.clock())

    def room(self, code) -> Room:
        """The room as the class sees it (RoomNotFound, RoomExpired)."""
        return self._read_room(codes.room_code(code), self.clock())

    def version(self, code) -> int:
        """The room's version alone: what a follower polls (one small read)."""
        return self._read_version(codes.room_code(code), self.clock())

    def answer(self, code, follower: str, question_id: int, value) -> None:
        """Record a follower's answer to question ``question_id``; a second answer replaces the first.

        ``value``: a point ``(x, y)`` for a point question, a choice index for
        a choice question (BadAnswer otherwise). QuestionClosed when that
        question is not the open one; RoomFull at ``max_answers``.
        """
        code = codes.room_code(code)
        follower = codes.follower_id(follower)
        kind, text = values.answer_json(value, self.limits)
        if isinstance(question_id, bool) or not isinstance(question_id, int) or not 0 < question_id < 2**53:
            raise refusal("questionclosed", code)
        self._answer(code, follower, question_id, kind, text, self.clock())

    def answers(self, code, secret=None) -> Answers:
        """The current question's answers: the teacher's at any time, everyone's once revealed.

        Without a secret before the reveal: NotTheTeacher (a class predicts
        before it sees the others). The values come in follower-id order, which
        is random: nothing says who answered what.
        """
        now = self.clock()
        if secret is not None:
            code = self._teacher(code, secret, now)[0]
        else:
            code = codes.room_code(code)
        question, rows = self._read_answers(code, now)
        if secret is None and not (question is not None and question.revealed):
            raise NotTheTeacher(f"Class room {code}'s answers are shown to the class when the teacher reveals them.")
        return Answers(question, [values.answer_value(text) for _, text in sorted(rows)])

    def my_answer(self, code, follower: str):
        """This follower's answer to the current question, or None (a returning student sees their guess)."""
        code = codes.room_code(code)
        text = self._read_my_answer(code, codes.follower_id(follower), self.clock())
        return None if text is None else values.answer_value(text)

    # ------------------------------------------------------------------ the operator
    def stats(self) -> dict:
        """Plain values for diagnostics: the backend, where it stores, live and stored rooms, the limits."""
        live, stored = self._count_rooms(self.clock())
        return {"backend": self.backend, "where": self.where(), "live_rooms": live, "stored_rooms": stored,
                "limits": dataclasses.asdict(self.limits)}

    @abc.abstractmethod
    def where(self) -> str:
        """Where the rooms are, for a person (a file path, a Redis address without its password)."""

    def close(self) -> None:  # noqa: B027 - optional: a store without connections has nothing to release
        """Release connections (optional: they are released when the store is garbage-collected)."""

    # ------------------------------------------------------------------ shared by the stores
    def _teacher(self, code, secret, now: float) -> tuple[str, str]:
        """(code, secret digest) once ``secret`` is checked against the room's digest in constant time."""
        code = codes.room_code(code)
        try:
            digest = codes.teacher_secret_digest(secret)
        except NotTheTeacher:
            raise refusal("notteacher", code) from None
        if not codes.same_digest(digest, self._secret_digest(code, now)):
            raise refusal("notteacher", code)
        return code, digest

    def _ended(self, touched: float, now: float) -> bool:
        """Whether a room last changed at ``touched`` has ended by ``now`` (the one expiry rule)."""
        return now > touched + self.limits.idle_seconds

    def _refuse(self, reason: str, code: str) -> RoomError:
        """The exception for a reason token (``rooms.errors.refusal``), with this store's idle limit."""
        return refusal(reason, code, self.limits.idle_seconds)

    # ------------------------------------------------------------------ what a store implements (each step atomic)
    # Every method below raises self._refuse("notfound" / "expired", code) for a missing or ended room; the
    # teacher's steps also take the secret digest already checked and refuse "notteacher" if the room's differs
    # (a room closed and its code reused in between).
    @abc.abstractmethod
    def _forget_ended(self, now: float) -> int:
        """Delete the rooms ended more than ``forget_seconds`` ago; returns how many."""

    @abc.abstractmethod
    def _insert_room(self, code: str, digest: str, now: float) -> bool:
        """Insert a room unless ``code`` is taken (False); refuse "storefull:N" at ``max_rooms`` live rooms."""

    @abc.abstractmethod
    def _secret_digest(self, code: str, now: float) -> str:
        """The stored digest of the room's teacher secret."""

    @abc.abstractmethod
    def _join(self, code: str, known: str | None, new_id: str, now: float) -> str:
        """``known`` if the room has it, else register ``new_id``; refuse "roomfull:N"."""

    @abc.abstractmethod
    def _read_room(self, code: str, now: float) -> Room:
        """The room (one consistent read)."""

    @abc.abstractmethod
    def _read_version(self, code: str, now: float) -> int:
        """The room's version."""

    @abc.abstractmethod
    def _set_state(self, code: str, digest: str, text: str, now: float) -> int:
        """Store the state's JSON text; version + 1 if it changed; returns the version."""

    @abc.abstractmethod
    def _set_paused(self, code: str, digest: str, paused: bool, now: float) -> int:
        """Set the paused flag; version + 1 if it changed; returns the version."""

    @abc.abstractmethod
    def _ask(self, code: str, digest: str, kind: str, choices: int, now: float) -> Question:
        """Replace the question (id = previous id + 1), delete the answers, version + 1."""

    @abc.abstractmethod
    def _reveal(self, code: str, digest: str, now: float) -> int:
        """Mark the question revealed (version + 1 the first time); refuse "noquestion" without one."""

    @abc.abstractmethod
    def _end_question(self, code: str, digest: str, now: float) -> int:
        """Remove the question and its answers (version + 1 if there was one)."""

    @abc.abstractmethod
    def _delete_room(self, code: str, digest: str, now: float) -> None:
        """Delete the room, its followers and answers."""

    @abc.abstractmethod
    def _answer(self, code: str, follower: str, question_id: int, kind: str, text: str, now: float) -> None:
        """Store or replace the follower's answer; refuse "notfollower", "questionclosed" (no such open
        question, or revealed), "wrongkind:K", "badchoice:N" or "answersfull:N"."""

    @abc.abstractmethod
    def _read_answers(self, code: str, now: float) -> tuple[Question | None, list[tuple[str, str]]]:
        """The question and its (follower id, answer text) pairs."""

    @abc.abstractmethod
    def _read_my_answer(self, code: str, follower: str, now: float) -> str | None:
        """One follower's answer text to the current question, or None."""

    @abc.abstractmethod
    def _count_rooms(self, now: float) -> tuple[int, int]:
        """(live rooms, stored rooms: live and ended but not yet forgotten)."""
