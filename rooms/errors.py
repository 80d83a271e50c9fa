"""Why a room store refused: one exception type per reason, each with a sentence a teacher or student can read.

Every limit and every check refuses by raising one of these; nothing is
dropped silently. All of them are ``RoomError``, so a page can catch one type
and show its message as a note. The input errors are also ``ValueError``.

Both stores (SQLite and Redis) report a refusal as a short *reason token*
(``"notfound"``, ``"roomfull"``, ``"wrongkind:point"``, …): the Redis store's
Lua scripts cannot raise Python exceptions, and the SQLite store uses the same
tokens so that ``refusal`` turns them into the same exception with the same
words, whichever store answered.
"""
from __future__ import annotations


class RoomError(Exception):
    """Base of every refusal; ``str(error)`` is a sentence to show as it is."""


class RoomNotFound(RoomError):
    """No room has this code (never made, closed by its teacher, or forgotten long after it expired)."""


class RoomExpired(RoomError):
    """The room was idle longer than the store's idle limit: it has ended and refuses everything."""


class NotTheTeacher(RoomError):
    """A teacher's action without the room's teacher secret (missing, wrong, forged or malformed)."""


class NotAFollower(RoomError):
    """An answer from a follower id this room did not hand out (or a malformed one)."""


class RoomFull(RoomError):
    """The room holds its limit of followers, or its current question its limit of answers."""


class StoreFull(RoomError):
    """The store holds its limit of live rooms (or found no free code): no new room now."""


class QuestionClosed(RoomError):
    """An answer to no question, to an earlier question, or to one already revealed."""


class StoreUnavailable(RoomError):
    """The store itself failed (database locked past the busy timeout, disk full, Redis unreachable)."""


class BadInput(RoomError, ValueError):
    """Input that fails the whitelist; subclasses say which kind."""


class BadCode(BadInput):
    """Not a room code: wrong characters or length, or not text at all."""


class BadState(BadInput):
    """A teacher state that is not a small JSON object (size, depth, key or value types)."""


class BadQuestion(BadInput):
    """A question of an unknown kind or with an impossible number of choices."""


class BadAnswer(BadInput):
    """An answer that is not a point of two finite numbers or a choice index this question offers."""


def refusal(reason: str, code: str, idle_seconds: float | None = None) -> RoomError:
    """The exception for a store's reason token ``reason`` about room ``code`` (see the module docstring).

    ``idle_seconds``: the store's idle limit, named in the expired message.
    """
    kind, _, detail = reason.partition(":")
    if kind == "notfound":
        return RoomNotFound(f"There is no class room {code}: check the code.")
    if kind == "expired":
        idle = f" (idle for more than {idle_seconds / 60:g} minutes)" if idle_seconds else ""
        return RoomExpired(f"Class room {code} has ended{idle}; the teacher can start a new one.")
    if kind == "notteacher":
        return NotTheTeacher(f"This link cannot lead class room {code}: only the teacher's own link can.")
    if kind == "notfollower":
        return NotAFollower(f"This browser has not joined class room {code}: join it again.")
    if kind == "roomfull":
        return RoomFull(f"Class room {code} is full ({detail} followers); no one else can join.")
    if kind == "answersfull":
        return RoomFull(f"Class room {code}'s question has all the answers it can hold ({detail}).")
    if kind == "storefull":
        return StoreFull(f"No new class room can start now: {detail} are running. Try again later.")
    if kind == "nocode":
        return StoreFull("No free class-room code was found; try again.")
    if kind == "questionclosed":
        return QuestionClosed(f"Class room {code} is not asking that question (any more).")
    if kind == "noquestion":
        return QuestionClosed(f"Class room {code} has no question open.")
    if kind == "wrongkind":
        wanted = "a point (x, y)" if detail == "point" else "one of its choices"
        return BadAnswer(f"This question takes {wanted}.")
    if kind == "badchoice":
        return BadAnswer(f"This question has {detail} choices; that answer is not one of them.")
    raise ValueError(f"unknown refusal {reason!r}")  # a store bug, not a user's input
