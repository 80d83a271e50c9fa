"""The room store's limits: how long an idle room lives, and how much one room and one store may hold.

Every limit exists so that one class, one prankster or one runaway script
cannot grow the store without bound or push another class out: a full room
or store refuses the next join, answer or room with a clear message
(``rooms.errors``) and keeps everything it already holds.

The defaults fit a lecture of 40–120 students with room to spare; an
operator can change the three that depend on the class through the
environment (``Limits.from_environment``), the rest through the constructor.
"""
from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping

IDLE_MINUTES_VARIABLE = "ERROR_SURFACE_LAB_ROOM_IDLE_MINUTES"
MAX_ROOMS_VARIABLE = "ERROR_SURFACE_LAB_ROOMS_MAX"
MAX_FOLLOWERS_VARIABLE = "ERROR_SURFACE_LAB_ROOM_FOLLOWERS_MAX"


@dataclasses.dataclass(frozen=True)
class Limits:
    """What a store allows; every field is a hard limit that refuses beyond it.

    idle_seconds: a room nobody has changed for this long has ended (teacher
        changes, joins and answers count; followers polling do not, so a tab
        left open does not keep a class alive for ever). 3 h covers a 90-minute
        lecture with a long break.
    forget_seconds: an ended room still answers "ended" (not "no such room")
        for this long, then it and everything in it are deleted.
    max_rooms: live rooms per store (every app process together).
    max_followers: followers per room (one per browser that joined).
    max_answers: answers to one question (one per follower; a second answer
        replaces the first, so this caps rows, not clicks).
    max_state_bytes: the teacher's state (page and widget values) as compact
        UTF-8 JSON; a page's state is well under 2 KiB.
    max_state_depth: nesting of lists and objects in that state.
    max_choices: options of a multiple-choice question.
    max_coordinate: |x| and |y| of a point answer (a map's domain is far smaller).
    """

    idle_seconds: float = 3 * 3600.0
    forget_seconds: float = 6 * 3600.0
    max_rooms: int = 200
    max_followers: int = 200
    max_answers: int = 200
    max_state_bytes: int = 16 * 1024
    max_state_depth: int = 8
    max_choices: int = 10
    max_coordinate: float = 1e6

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
                raise ValueError(f"room limit {field.name} must be a positive finite number, not {value!r}")
        if self.max_choices < 2:
            raise ValueError("room limit max_choices must be at least 2")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ, **overrides) -> Limits:
        """The defaults, with the operator's idle time, rooms and followers from ``environ`` where set.

        ``ERROR_SURFACE_LAB_ROOM_IDLE_MINUTES`` (default 180),
        ``ERROR_SURFACE_LAB_ROOMS_MAX`` (200) and
        ``ERROR_SURFACE_LAB_ROOM_FOLLOWERS_MAX`` (200; the answers per question
        follow it). A malformed value raises ValueError naming the variable:
        a mistyped limit should stop the operator at start, not change the
        class's rules silently.
        """
        values = {}
        for variable, field, parse in ((IDLE_MINUTES_VARIABLE, "idle_seconds", lambda s: float(s) * 60.0),
                                       (MAX_ROOMS_VARIABLE, "max_rooms", int),
                                       (MAX_FOLLOWERS_VARIABLE, "max_followers", int)):
            text = environ.get(variable, "").strip()
            if text:
                try:
                    values[field] = parse(text)
                except ValueError:
                    raise ValueError(f"{variable}={text!r} is not a number") from None
        if "max_followers" in values:
            values["max_answers"] = values["max_followers"]
        values.update(overrides)
        try:
            return cls(**values)
        except ValueError as error:
            raise ValueError(f"{error} (from the environment: {sorted(values)})") from None
