"""The three tokens of a class room: the code students type, the teacher's secret, and a follower's id.

**Room code**: 6 characters from an alphabet of 32 that has no 0/O and no
1/I, so a code read off a projector or said aloud is typed right
(32⁶ ≈ 1.07 × 10⁹ codes). A code is public: it lets one *follow* a class,
never lead it. Input is forgiving where that cannot be ambiguous (case,
spaces and hyphens are ignored) and strict otherwise (anything else is
``BadCode``, checked before any store is asked, so garbage costs nothing).

**Teacher secret**: 192 random bits from ``secrets`` (≥ 128 asked for), as
32 URL-safe characters that travel in the teacher's control link. The store
keeps only its SHA-256 digest and compares digests with
``hmac.compare_digest`` (constant time). A secret this random needs no slow
password hash: no one can guess it, so there is nothing to brute-force
from a leaked digest.

**Follower id**: 128 random bits, 22 URL-safe characters, made by the store
when a browser joins (a client never chooses its own). It names a browser,
not a person: answers are stored against it and nothing else, so they are
anonymous.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from rooms.errors import BadCode, NotAFollower, NotTheTeacher

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # digits and letters without 0, O, 1, I
CODE_LENGTH = 6
SECRET_BYTES = 24  # 192 bits
SECRET_LENGTH = 32  # URL-safe base64 of SECRET_BYTES, no padding
FOLLOWER_BYTES = 16  # 128 bits
FOLLOWER_LENGTH = 22

_CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
_SECRET = re.compile(f"[A-Za-z0-9_-]{{{SECRET_LENGTH}}}")
_FOLLOWER = re.compile(f"[A-Za-z0-9_-]{{{FOLLOWER_LENGTH}}}")
_TYPED_CODE_MAX = 24  # longer text is not a code with a few spaces in it: refused before it is looked at


def new_room_code() -> str:
    """A fresh random room code (the store retries on the rare collision with an existing room)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def room_code(text) -> str:
    """The room code in what someone typed or a link carried: upper case, spaces and hyphens dropped.

    Raises BadCode for anything that is not then exactly ``CODE_LENGTH``
    characters of ``CODE_ALPHABET`` (a 0, O, 1 or I included: no code has one).
    """
    if not isinstance(text, str) or len(text) > _TYPED_CODE_MAX:
        raise BadCode("That is not a class-room code (six letters and digits).")
    code = text.strip().upper().replace(" ", "").replace("-", "")
    if not _CODE.fullmatch(code):
        raise BadCode("That is not a class-room code (six letters and digits; no 0, O, 1 or I).")
    return code


def new_teacher_secret() -> str:
    """A fresh teacher secret: ``SECRET_BYTES`` random bytes as URL-safe text."""
    return secrets.token_urlsafe(SECRET_BYTES)


def teacher_secret_digest(secret) -> str:
    """The SHA-256 digest (hex) a store keeps for ``secret``; NotTheTeacher if it is not one in form.

    The format check comes first, so a huge or odd value is refused without
    being hashed; a missing secret (None) is refused the same way.
    """
    if not isinstance(secret, str) or not _SECRET.fullmatch(secret):
        raise NotTheTeacher("This link cannot lead a class room: it carries no teacher secret.")
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def same_digest(given: str, stored: str) -> bool:
    """Whether two secret digests are equal, compared in constant time."""
    return hmac.compare_digest(given.encode("ascii"), stored.encode("ascii"))


def new_follower_id() -> str:
    """A fresh anonymous follower id (made by the store on join)."""
    return secrets.token_urlsafe(FOLLOWER_BYTES)


def follower_id(text) -> str:
    """``text`` if it has a follower id's form; NotAFollower otherwise (checked before any store is asked)."""
    if not isinstance(text, str) or not _FOLLOWER.fullmatch(text):
        raise NotAFollower("This browser has no valid follower id: join the class room again.")
    return text
