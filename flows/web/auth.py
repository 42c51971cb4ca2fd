"""Sessions, CSRF tokens and the sign-in rate limit of the service.

A session is a random token in an HttpOnly, SameSite=Strict cookie; the service keeps only its
digest, with the person once they have signed in with a passkey, a CSRF token every form and request
carries, and at most one pending WebAuthn challenge. A session idle longer than the timeout is gone.
Sessions live in the service's memory: a restart signs everyone out, which costs one passkey touch.
"""

import hashlib
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

COOKIE = "musharaka_session"
LANG_COOKIE = "musharaka_lang"


@dataclass
class WebSession:
    csrf: str
    last_seen: datetime
    person: str | None = None
    challenge: bytes | None = None  # of the sign-in or enrolment under way
    pending: dict[str, Any] | None = None  # the decision awaiting its passkey signature
    pending_at: datetime | None = None


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


MAX_SESSIONS = 10_000  # beyond this, the least recently seen go first: memory stays bounded


@dataclass
class Sessions:
    idle: timedelta
    _by_key: dict[str, WebSession] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, token: str | None, now: datetime) -> WebSession | None:
        """The session of a cookie, if it exists and has not been idle too long; touching it keeps it alive."""
        if not token:
            return None
        with self._lock:
            session = self._by_key.get(_key(token))
            if session is None:
                return None
            if now - session.last_seen > self.idle:
                del self._by_key[_key(token)]
                return None
            session.last_seen = now
            return session

    def new(self, now: datetime, person: str | None = None) -> tuple[str, WebSession]:
        """A fresh session and its cookie token (a new one at sign-in: no session is carried across)."""
        token = secrets.token_urlsafe(32)
        session = WebSession(csrf=secrets.token_urlsafe(32), last_seen=now, person=person)
        with self._lock:
            if len(self._by_key) >= MAX_SESSIONS:
                self._by_key = {k: s for k, s in self._by_key.items() if now - s.last_seen <= self.idle}
            while len(self._by_key) >= MAX_SESSIONS:
                del self._by_key[min(self._by_key, key=lambda k: self._by_key[k].last_seen)]
            self._by_key[_key(token)] = session
        return token, session

    def end(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._by_key.pop(_key(token), None)


@dataclass
class RateLimit:
    """At most `failures` failed sign-ins per person and per address within `window`."""

    failures: int = 5
    window: timedelta = timedelta(minutes=15)
    _seen: dict[str, deque[datetime]] = field(default_factory=dict)
    _reported: dict[str, datetime] = field(default_factory=dict)  # when a block was last put on the record
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: datetime) -> int:
        times = self._seen.get(key)
        if times is None:
            return 0
        while times and now - times[0] > self.window:
            times.popleft()
        if not times:
            del self._seen[key]
        return len(times)

    def blocked(self, keys: list[str], now: datetime) -> bool:
        with self._lock:
            return any(self._recent(key, now) >= self.failures for key in keys)

    def first_report(self, keys: list[str], now: datetime) -> bool:
        """Whether this block is the first of its window to go on the record (the log is not a flood's)."""
        with self._lock:
            fresh = [k for k in keys if now - self._reported.get(k, now - 2 * self.window) > self.window]
            for key in fresh:
                self._reported[key] = now
            return bool(fresh)

    def failed(self, keys: list[str], now: datetime) -> None:
        with self._lock:
            if len(self._seen) > MAX_SESSIONS:  # a flood of made-up ids: forget what has aged out
                for key in list(self._seen):
                    self._recent(key, now)
            for key in keys:
                self._seen.setdefault(key, deque()).append(now)

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._seen.pop(key, None)


def same(expected: str, given: str | None) -> bool:
    return given is not None and secrets.compare_digest(expected.encode(), given.encode())
