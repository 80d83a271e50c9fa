"""The room store for several machines: a Redis server every app process reaches (``ERROR_SURFACE_LAB_REDIS_URL``).

It keeps exactly what the SQLite store keeps and answers exactly as it does
(``tests/test_rooms.py`` runs the same tests against both). Each room is
three keys and the store has one index:

- ``<prefix>room:<code>``: a hash of the room's fields (secret digest,
  created, touched, version, paused, state JSON, the question's fields,
  answer serial);
- ``<prefix>room:<code>:followers``: follower id → time joined;
- ``<prefix>room:<code>:answers``: follower id → answer JSON;
- ``<prefix>index``: a sorted set, code → time last changed, to count live
  rooms and find ended ones.

Every change is one Lua script (``SCRIPTS``): Redis runs a script as one
step that no other client's command interleaves, so a script can check
(the room exists and is live, the secret digest matches, the room has
space) and write in one go — the same guarantee the SQLite store gets from
``BEGIN IMMEDIATE``. Reads that need several keys use MULTI/EXEC (one
consistent snapshot). A refusal comes back as the same reason token the
SQLite store raises (``rooms.errors.refusal``).

Time is the store's clock, sent with each call (tests inject a fake one);
the room's keys also get a Redis expiry of idle + forget time (plus a
minute), so rooms are removed even if no new room is ever created to
trigger the clean-up. Keys of one room share no hash slot with the index:
use a single Redis server (with replicas if wanted), not Redis Cluster.
"""
from __future__ import annotations

import contextlib
import json
import math
import urllib.parse

from rooms.errors import StoreUnavailable
from rooms.store import Question, Room, RoomStore

DEFAULT_PREFIX = "error-surface-lab:rooms:"
TIMEOUT_S = 5.0  # connect and reply; a Redis that does not answer in time is StoreUnavailable

# Every script gets KEYS = (room, followers, answers, index) and ARGV = (now, idle seconds, ttl, code, …).
_PRELUDE = """
local now, idle, ttl, code = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local function ended_or_missing()
  local touched = redis.call('HGET', KEYS[1], 'touched')
  if not touched then return 'notfound' end
  if tonumber(now) > tonumber(touched) + tonumber(idle) then return 'expired' end
  return false
end
local function not_the_teacher(digest)
  local bad = ended_or_missing()
  if bad then return bad end
  if redis.call('HGET', KEYS[1], 'secret') ~= digest then return 'notteacher' end
  return false
end
local function touch(bump)
  redis.call('HSET', KEYS[1], 'touched', now)
  redis.call('ZADD', KEYS[4], now, code)
  for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ttl) end
  if bump then return redis.call('HINCRBY', KEYS[1], 'version', 1) end
  return tonumber(redis.call('HGET', KEYS[1], 'version'))
end
"""

SCRIPTS = {
    # ARGV[5] digest, ARGV[6] max rooms, ARGV[7] the oldest 'touched' of a live room
    "create": """
if redis.call('EXISTS', KEYS[1]) == 1 then return {'taken'} end
if redis.call('ZCOUNT', KEYS[4], ARGV[7], '+inf') >= tonumber(ARGV[6]) then return {'storefull:' .. ARGV[6]} end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('HSET', KEYS[1], 'secret', ARGV[5], 'created', now, 'touched', now, 'version', 1, 'paused', 0,
           'state', '{}', 'question_seq', 0, 'answer_serial', 0)
touch(false)
return {'ok'}
""",
    # ARGV[5] the oldest 'touched' kept
    "forget": """
local touched = redis.call('HGET', KEYS[1], 'touched')
if touched and tonumber(touched) >= tonumber(ARGV[5]) then return {'kept'} end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('ZREM', KEYS[4], code)
return {'ok'}
""",
    # ARGV[5] the follower id the browser had ('' for none), ARGV[6] a fresh id, ARGV[7] max followers
    "join": """
local bad = ended_or_missing()
if bad then return {bad} end
if ARGV[5] ~= '' and redis.call('HEXISTS', KEYS[2], ARGV[5]) == 1 then
  touch(false)
  return {'ok', ARGV[5]}
end
if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[7]) then return {'roomfull:' .. ARGV[7]} end
redis.call('HSET', KEYS[2], ARGV[6], now)
touch(false)
return {'ok', ARGV[6]}
""",
    # ARGV[5] digest, ARGV[6] field ('state' or 'paused'), ARGV[7] its new value
    "set": """
local bad = not_the_teacher(ARGV[5])
if bad then return {bad} end
local changed = redis.call('HGET', KEYS[1], ARGV[6]) ~= ARGV[7]
if changed then redis.call('HSET', KEYS[1], ARGV[6], ARGV[7]) end
return {'ok', touch(changed)}
""",
    # ARGV[5] digest, ARGV[6] kind, ARGV[7] choices
    "ask": """
local bad = not_the_teacher(ARGV[5])
if bad then return {bad} end
local id = redis.call('HINCRBY', KEYS[1], 'question_seq', 1)
redis.call('HSET', KEYS[1], 'question_id', id, 'question_kind', ARGV[6], 'question_created', now,
           'question_choices', ARGV[7], 'question_revealed', 0)
redis.call('DEL', KEYS[3])
return {'ok', touch(true), id}
""",
    # ARGV[5] digest
    "reveal": """
local bad = not_the_teacher(ARGV[5])
if bad then return {bad} end
if not redis.call('HGET', KEYS[1], 'question_id') then return {'noquestion'} end
local changed = redis.call('HGET', KEYS[1], 'question_revealed') ~= '1'
if changed then redis.call('HSET', KEYS[1], 'question_revealed', 1) end
return {'ok', touch(changed)}
""",
    # ARGV[5] digest
    "end_question": """
local bad = not_the_teacher(ARGV[5])
if bad then return {bad} end
local changed = redis.call('HEXISTS', KEYS[1], 'question_id') == 1
if changed then
  redis.call('HDEL', KEYS[1], 'question_id', 'question_kind', 'question_created', 'question_choices',
             'question_revealed')
  redis.call('DEL', KEYS[3])
end
return {'ok', touch(changed)}
""",
    # ARGV[5] digest
    "delete": """
local bad = not_the_teacher(ARGV[5])
if bad then return {bad} end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('ZREM', KEYS[4], code)
return {'ok'}
""",
    # ARGV[5] follower, ARGV[6] question id, ARGV[7] kind, ARGV[8] answer JSON, ARGV[9] max answers
    "answer": """
local bad = ended_or_missing()
if bad then return {bad} end
if redis.call('HEXISTS', KEYS[2], ARGV[5]) == 0 then return {'notfollower'} end
local q = redis.call('HMGET', KEYS[1], 'question_id', 'question_kind', 'question_choices', 'question_revealed')
if q[1] ~= ARGV[6] or q[4] == '1' then return {'questionclosed'} end
if q[2] ~= ARGV[7] then return {'wrongkind:' .. q[2]} end
if ARGV[7] == 'choice' and tonumber(ARGV[8]) >= tonumber(q[3]) then return {'badchoice:' .. q[3]} end
if redis.call('HEXISTS', KEYS[3], ARGV[5]) == 0 and redis.call('HLEN', KEYS[3]) >= tonumber(ARGV[9]) then
  return {'answersfull:' .. ARGV[9]}
end
redis.call('HSET', KEYS[3], ARGV[5], ARGV[8])
redis.call('HINCRBY', KEYS[1], 'answer_serial', 1)
touch(false)
return {'ok'}
""",
}

_QUESTION_FIELDS = ("question_id", "question_kind", "question_created", "question_choices", "question_revealed")


class RedisRoomStore(RoomStore):
    """Rooms in a Redis server (module docstring). ``url``: redis://[:password@]host:port/db (or rediss://, unix://).

    ``prefix``: the start of every key, so one Redis can hold several labs
    (or tests) apart.
    """

    backend = "redis"

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX, **kwargs):
        super().__init__(**kwargs)
        try:
            import redis  # only a deployment that configures Redis needs the client
        except ImportError:
            raise StoreUnavailable("The class-room store needs the redis package (pip install redis).") from None
        self._errors = redis.exceptions.RedisError
        self.url, self.prefix = url, prefix
        try:
            self._client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=TIMEOUT_S,
                                                socket_connect_timeout=TIMEOUT_S, health_check_interval=30)
        except ValueError as error:  # a malformed address: say which, without its password
            raise StoreUnavailable(f"The class-room store's Redis address is not valid: {error}") from None
        self._scripts = {name: self._client.register_script(_PRELUDE + body) for name, body in SCRIPTS.items()}
        with self._speaking():
            self._client.ping()

    def where(self) -> str:
        """The address without its user name and password."""
        parts = urllib.parse.urlsplit(self.url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ keys, scripts, errors
    def _keys(self, code: str) -> list[str]:
        room = f"{self.prefix}room:{code}"
        return [room, f"{room}:followers", f"{room}:answers", f"{self.prefix}index"]

    @contextlib.contextmanager
    def _speaking(self):
        try:
            yield
        except self._errors as error:
            raise StoreUnavailable(f"The class-room store (Redis at {self.where()}) failed: {error}") from None

    def _run(self, script: str, code: str, now: float, *args) -> list:
        """Run one script on room ``code``; its reply after 'ok', or the refusal it names raised."""
        ttl = math.ceil(self.limits.idle_seconds + self.limits.forget_seconds) + 60
        with self._speaking():
            reply = self._scripts[script](keys=self._keys(code),
                                          args=[repr(float(now)), repr(float(self.limits.idle_seconds)), ttl, code,
                                                *args])
        if reply[0] not in ("ok", "taken", "kept"):
            raise self._refuse(reply[0], code)
        return reply

    def _live(self, code: str, touched, now: float) -> None:
        """Refuse a room whose hash is missing (``touched`` None) or ended."""
        if touched is None:
            raise self._refuse("notfound", code)
        if self._ended(float(touched), now):
            raise self._refuse("expired", code)

    @staticmethod
    def _question(question_id, kind, created, choices, revealed) -> Question | None:
        if question_id is None:
            return None
        return Question(int(question_id), kind, float(created), int(choices), revealed == "1")

    # ------------------------------------------------------------------ the steps
    def _forget_ended(self, now: float) -> int:
        cutoff = now - self.limits.idle_seconds - self.limits.forget_seconds
        with self._speaking():
            codes = self._client.zrangebyscore(f"{self.prefix}index", "-inf", f"({cutoff!r}")
        return sum(self._run("forget", code, now, repr(cutoff))[0] == "ok" for code in codes)

    def _insert_room(self, code: str, digest: str, now: float) -> bool:
        reply = self._run("create", code, now, digest, self.limits.max_rooms, repr(now - self.limits.idle_seconds))
        return reply[0] == "ok"

    def _secret_digest(self, code: str, now: float) -> str:
        with self._speaking():
            secret, touched = self._client.hmget(self._keys(code)[0], "secret", "touched")
        self._live(code, touched, now)
        return secret

    def _join(self, code: str, known: str | None, new_id: str, now: float) -> str:
        return self._run("join", code, now, known or "", new_id, self.limits.max_followers)[1]

    def _read_room(self, code: str, now: float) -> Room:
        room, followers, answers, _ = self._keys(code)
        with self._speaking():
            fields, n_followers, n_answers = (self._client.pipeline(transaction=True)
                                              .hgetall(room).hlen(followers).hlen(answers).execute())
        self._live(code, fields.get("touched"), now)
        touched = float(fields["touched"])
        return Room(code=code, version=int(fields["version"]), state=json.loads(fields["state"]),
                    paused=fields["paused"] == "1",
                    question=self._question(*(fields.get(f) for f in _QUESTION_FIELDS)),
                    followers=int(n_followers), answers=int(n_answers), answer_serial=int(fields["answer_serial"]),
                    created=float(fields["created"]), touched=touched, expires=touched + self.limits.idle_seconds)

    def _read_version(self, code: str, now: float) -> int:
        with self._speaking():
            version, touched = self._client.hmget(self._keys(code)[0], "version", "touched")
        self._live(code, touched, now)
        return int(version)

    def _set_state(self, code: str, digest: str, text: str, now: float) -> int:
        return int(self._run("set", code, now, digest, "state", text)[1])

    def _set_paused(self, code: str, digest: str, paused: bool, now: float) -> int:
        return int(self._run("set", code, now, digest, "paused", int(paused))[1])

    def _ask(self, code: str, digest: str, kind: str, choices: int, now: float) -> Question:
        question_id = int(self._run("ask", code, now, digest, kind, choices)[2])
        return Question(question_id, kind, now, choices, False)

    def _reveal(self, code: str, digest: str, now: float) -> int:
        return int(self._run("reveal", code, now, digest)[1])

    def _end_question(self, code: str, digest: str, now: float) -> int:
        return int(self._run("end_question", code, now, digest)[1])

    def _delete_room(self, code: str, digest: str, now: float) -> None:
        self._run("delete", code, now, digest)

    def _answer(self, code: str, follower: str, question_id: int, kind: str, text: str, now: float) -> None:
        self._run("answer", code, now, follower, question_id, kind, text, self.limits.max_answers)

    def _read_answers(self, code: str, now: float) -> tuple[Question | None, list[tuple[str, str]]]:
        room, _, answers, _ = self._keys(code)
        with self._speaking():
            fields, pairs = (self._client.pipeline(transaction=True)
                             .hmget(room, "touched", *_QUESTION_FIELDS).hgetall(answers).execute())
        self._live(code, fields[0], now)
        return self._question(*fields[1:]), list(pairs.items())

    def _read_my_answer(self, code: str, follower: str, now: float) -> str | None:
        room, _, answers, _ = self._keys(code)
        with self._speaking():
            touched, text = (self._client.pipeline(transaction=True)
                             .hget(room, "touched").hget(answers, follower).execute())
        self._live(code, touched, now)
        return text

    def _count_rooms(self, now: float) -> tuple[int, int]:
        index = self._keys("")[3]
        with self._speaking():
            live, stored = (self._client.pipeline(transaction=True)
                            .zcount(index, repr(now - self.limits.idle_seconds), "+inf").zcard(index).execute())
        return int(live), int(stored)
