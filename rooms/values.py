"""What a room accepts as the teacher's state, a question and an answer: whitelists, checked before any store.

Every value is checked here, in one place, before a store sees it, so the
SQLite and the Redis store keep exactly the same things and a forged, huge or
malformed value is refused without touching any room.

**State**: a JSON object (the page and its widget values) of plain types
only: string keys; strings, finite numbers, booleans, null, lists and
objects; at most ``max_state_depth`` deep and ``max_state_bytes`` as compact
UTF-8 JSON. The walk counts bytes as it goes and stops at the limit, so a
state of a million entries is refused after reading about the limit's worth,
not a million.

**Questions** are of two kinds: ``"point"`` (where will it end? an (x, y) on
the map) and ``"choice"`` (one of 2…``max_choices`` options).

**Answers**: a point is two finite numbers within ±``max_coordinate``; a
choice is a non-negative integer (whether the current question has that
many options is checked by the store, which knows the question). Stored as
compact JSON: ``[x, y]`` or ``k``.
"""
from __future__ import annotations

import json
import math
import numbers

from rooms.errors import BadAnswer, BadQuestion, BadState
from rooms.limits import Limits

QUESTION_KINDS = ("point", "choice")


def state_json(state, limits: Limits) -> str:
    """``state`` as compact JSON text after the whitelist (module docstring); BadState says what is wrong."""
    if not isinstance(state, dict):
        raise BadState("The class state must be an object of named values.")
    budget = [limits.max_state_bytes]  # bytes left; each value's size is charged before it is walked into

    def charge(n: int) -> None:
        budget[0] -= n
        if budget[0] < 0:
            raise BadState(f"The class state is larger than {limits.max_state_bytes} bytes.")

    def walk(value, depth: int) -> None:  # depth: how many lists and objects hold ``value`` (the state's own: 1)
        if depth > limits.max_state_depth and isinstance(value, (list, tuple, dict)):
            raise BadState(f"The class state is nested more than {limits.max_state_depth} deep.")
        if value is None or isinstance(value, bool):
            charge(5)
        elif isinstance(value, str):
            charge(len(value) + 2)  # a lower bound on its JSON size: the exact check follows
        elif isinstance(value, numbers.Integral):
            charge(1)
            if abs(int(value)) >= 2**53:  # beyond this a JSON reader in the browser changes the number
                raise BadState("A number in the class state is too large.")
        elif isinstance(value, numbers.Real):
            charge(1)
            if not math.isfinite(value):
                raise BadState("A number in the class state is not finite.")
        elif isinstance(value, (list, tuple)):
            charge(2)
            for item in value:
                charge(1)
                walk(item, depth + 1)
        elif isinstance(value, dict):
            charge(2)
            for key, item in value.items():
                if not isinstance(key, str):
                    raise BadState("Every name in the class state must be text.")
                charge(len(key) + 3)
                walk(item, depth + 1)
        else:
            raise BadState(f"The class state cannot hold a {type(value).__name__}.")

    walk(state, 1)
    text = json.dumps(state, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_plain_number)
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate: no browser could read it back
        raise BadState("The class state holds text that is not valid Unicode.") from None
    if size > limits.max_state_bytes:
        raise BadState(f"The class state is larger than {limits.max_state_bytes} bytes.")
    return text


def _plain_number(value):
    """json.dumps's fallback for NumPy-like numbers the walk accepted (numbers.Integral / numbers.Real)."""
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def question_choices(kind, choices, limits: Limits) -> int:
    """The number of options a question of ``kind`` offers (0 for a point); BadQuestion if it makes no sense."""
    if kind == "point":
        if choices is not None:
            raise BadQuestion("A point question has no choices.")
        return 0
    if kind == "choice":
        if (isinstance(choices, bool) or not isinstance(choices, numbers.Integral)
                or not 2 <= choices <= limits.max_choices):
            raise BadQuestion(f"A multiple-choice question has 2 to {limits.max_choices} choices.")
        return int(choices)
    raise BadQuestion(f"A question is one of {', '.join(QUESTION_KINDS)}.")


def answer_json(value, limits: Limits) -> tuple[str, str]:
    """(kind, compact JSON) of an answer: a point (x, y) or a choice index; BadAnswer for anything else.

    Sizes are checked before contents, so a list of a million numbers is
    refused by its length alone.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if not 0 <= value < limits.max_choices:
            raise BadAnswer("That is not one of the question's choices.")
        return "choice", str(int(value))
    if isinstance(value, (list, tuple)) and len(value) == 2:
        x, y = value
        for v in (x, y):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise BadAnswer("A point answer is two numbers (x, y).")
            if not (math.isfinite(v) and abs(v) <= limits.max_coordinate):
                raise BadAnswer("A point answer must be finite and on the map.")
        return "point", json.dumps([float(x), float(y)], separators=(",", ":"))
    raise BadAnswer("An answer is a point (x, y) or the number of a choice.")


def answer_value(text: str):
    """The answer stored as ``text`` (by ``answer_json``): a tuple (x, y) of floats or an int choice."""
    value = json.loads(text)
    return (float(value[0]), float(value[1])) if isinstance(value, list) else int(value)
