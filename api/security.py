"""Credentials: password hashes, access tokens, worker API keys, CSRF tokens, sign-in throttle.

Everything cryptographic comes from well-kept libraries (pwdlib/argon2-cffi, PyJWT, the
standard library's ``hmac`` and ``secrets``); this module only fixes the choices:

- Passwords: Argon2id with pwdlib's recommended parameters; ``verify`` also returns a new
  hash when the stored one uses outdated parameters, so hashes upgrade at sign-in.
- Access tokens: JWT, HS256 only (the algorithm is pinned on decode, so ``alg: none`` or
  an RS/HS confusion cannot pass), claims ``sub``, ``iat``, ``exp``, ``jti`` and ``ver``
  (the user's token version: bump it to revoke every token the user holds).
- Worker API keys: ``swk_<prefix>_<secret>``; 256 random bits, stored only as
  HMAC-SHA256(server key, full key). The key has full entropy, so a slow password hash
  would add latency to every worker request and no security; the server key means a
  leaked database alone is not even enough to test guesses. The prefix is not secret
  and finds the row.
- CSRF: a random nonce plus an HMAC over (session id, nonce), checked on cookie-sent
  form posts. A token from one session never validates for another.

Every purpose gets its own key derived from the one server secret (``derive_key``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from pwdlib import PasswordHash

log = logging.getLogger(__name__)

JWT_ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
API_KEY_SCHEME = "swk"
_PREFIX_CHARS = 8  # hex characters of the non-secret lookup prefix


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose (``"jwt"``, ``"api-key"``, ``"csrf"``) from the server secret."""
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"secret key must be at least {MIN_SECRET_BYTES} bytes, got {len(secret)}")
    return hmac.new(secret, b"sitewatch:" + purpose.encode(), hashlib.sha256).digest()


# -- passwords ---------------------------------------------------------------------------


class Passwords:
    """Argon2 password hashing (pwdlib's recommended settings)."""

    def __init__(self, hasher: PasswordHash | None = None) -> None:
        self._hasher = hasher or PasswordHash.recommended()
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        if not password:
            raise ValueError("password must not be empty")
        return self._hasher.hash(password)

    def verify(self, password: str, stored_hash: str) -> tuple[bool, str | None]:
        """``(ok, new_hash)``: ``new_hash`` is set when the stored hash should be replaced."""
        try:
            ok, updated = self._hasher.verify_and_update(password, stored_hash)
        except Exception:  # an unknown or corrupt hash is a failed sign-in, not a 500
            log.warning("stored password hash could not be read", exc_info=True)
            return False, None
        return bool(ok), (updated if ok else None)

    def verify_dummy(self, password: str) -> None:
        """Spend the time of one verification, for unknown user names (no user oracle)."""
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        self._hasher.verify(password or "x", self._dummy)


# -- access tokens -------------------------------------------------------------------------


class InvalidToken(Exception):
    """A token that is malformed, forged, expired or revoked (always a 401)."""


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    version: int
    issued_at: float
    expires_at: float
    token_id: str


class AccessTokens:
    """Issue and check HS256 JWTs; ``clock`` returns Unix seconds."""

    def __init__(
        self,
        secret: bytes,
        ttl_s: float,
        *,
        clock: Callable[[], float] = time.time,
        issuer: str = "sitewatch",
        leeway_s: float = 30.0,
    ) -> None:
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be > 0 seconds, got {ttl_s}")
        self._key = derive_key(secret, "jwt")
        self.ttl_s = float(ttl_s)
        self._clock = clock
        self._issuer = issuer
        self._leeway = float(leeway_s)

    def issue(self, subject: str, version: int) -> str:
        now = int(self._clock())
        claims: dict[str, Any] = {
            "sub": subject,
            "iss": self._issuer,
            "iat": now,
            "exp": now + int(self.ttl_s),
            "jti": secrets.token_urlsafe(16),
            "ver": int(version),
        }
        return jwt.encode(claims, self._key, algorithm=JWT_ALGORITHM)

    def decode(self, token: str, current_version: int | None = None) -> TokenClaims:
        """Check signature, issuer, expiry (on ``clock``) and, if given, the token version."""
        try:
            raw = jwt.decode(
                token,
                self._key,
                algorithms=[JWT_ALGORITHM],
                issuer=self._issuer,
                options={
                    "require": ["sub", "iat", "exp", "jti", "ver", "iss"],
                    "verify_exp": False,  # checked below against the injected clock
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"invalid token: {exc}") from exc
        now = self._clock()
        if not isinstance(raw["ver"], int) or not isinstance(raw["exp"], int | float):
            raise InvalidToken("invalid token: bad claim types")
        if now > float(raw["exp"]) + self._leeway:
            raise InvalidToken("token expired")
        if float(raw["iat"]) > now + self._leeway:
            raise InvalidToken("token issued in the future")
        if current_version is not None and raw["ver"] != current_version:
            raise InvalidToken("token revoked")
        return TokenClaims(
            subject=str(raw["sub"]),
            version=raw["ver"],
            issued_at=float(raw["iat"]),
            expires_at=float(raw["exp"]),
            token_id=str(raw["jti"]),
        )


# -- worker API keys ---------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedApiKey:
    key: str  # shown once, never stored
    prefix: str  # stored in clear (unique), used to find the row
    digest: str  # stored: HMAC-SHA256 hex of the full key


class ApiKeys:
    """Generate, hash and check worker API keys."""

    def __init__(self, secret: bytes) -> None:
        self._key = derive_key(secret, "api-key")

    def generate(self) -> IssuedApiKey:
        prefix = secrets.token_hex(_PREFIX_CHARS // 2)
        key = f"{API_KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
        return IssuedApiKey(key=key, prefix=prefix, digest=self.digest(key))

    @staticmethod
    def prefix_of(key: str) -> str | None:
        """The lookup prefix of a well-formed key, else None (reject without a query)."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != API_KEY_SCHEME or len(parts[2]) < 32:
            return None
        prefix = parts[1]
        if len(prefix) != _PREFIX_CHARS or any(c not in "0123456789abcdef" for c in prefix):
            return None
        return prefix

    def digest(self, key: str) -> str:
        return hmac.new(self._key, key.encode(), hashlib.sha256).hexdigest()

    def verify(self, key: str, stored_digest: str) -> bool:
        return hmac.compare_digest(self.digest(key), stored_digest)


# -- CSRF --------------------------------------------------------------------------------


class CsrfTokens:
    """Signed CSRF tokens tied to a session id (e.g. the session token's ``jti``)."""

    def __init__(self, secret: bytes) -> None:
        self._key = derive_key(secret, "csrf")

    def _mac(self, session_id: str, nonce: str) -> str:
        msg = f"{session_id}\x00{nonce}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()

    def issue(self, session_id: str) -> str:
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._mac(session_id, nonce)}"

    def verify(self, session_id: str, token: str | None) -> bool:
        if not token or not session_id or token.count(".") != 1:
            return False
        nonce, mac = token.split(".")
        return hmac.compare_digest(self._mac(session_id, nonce), mac)


# -- sign-in throttle --------------------------------------------------------------------


@dataclass
class _Failures:
    count: int
    last: float
    blocked_until: float


class SignInThrottle:
    """Exponential slow-down per (user name, client) after repeated wrong passwords.

    The first ``free_failures`` failures cost nothing; each further one doubles the wait
    (``base_delay_s``, 2×, 4×, … capped at ``max_delay_s``) before the next attempt is
    heard. Counts are forgotten ``forget_after_s`` after the last failure and on success.
    State is per process and bounded (``max_entries``, oldest dropped first).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        free_failures: int = 3,
        base_delay_s: float = 1.0,
        max_delay_s: float = 300.0,
        forget_after_s: float = 3600.0,
        max_entries: int = 100_000,
    ) -> None:
        if free_failures < 0 or base_delay_s <= 0 or max_delay_s < base_delay_s:
            raise ValueError("need free_failures ≥ 0 and 0 < base_delay_s ≤ max_delay_s")
        self._clock = clock
        self._free = free_failures
        self._base = base_delay_s
        self._max = max_delay_s
        self._forget = forget_after_s
        self._max_entries = max_entries
        self._state: OrderedDict[tuple[str, str], _Failures] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(username: str, client: str) -> tuple[str, str]:
        return username.strip().casefold(), client

    def _live(self, key: tuple[str, str], now: float) -> _Failures | None:
        entry = self._state.get(key)
        if entry is not None and now - entry.last > self._forget:
            del self._state[key]
            return None
        return entry

    def retry_after(self, username: str, client: str) -> float:
        """Seconds until an attempt is heard (0.0: go ahead); answer 429 when > 0."""
        now = self._clock()
        with self._lock:
            entry = self._live(self._key(username, client), now)
            return max(0.0, entry.blocked_until - now) if entry else 0.0

    def failure(self, username: str, client: str) -> float:
        """Record a wrong password; returns the wait now imposed (seconds)."""
        now = self._clock()
        key = self._key(username, client)
        with self._lock:
            entry = self._live(key, now) or _Failures(0, now, now)
            entry.count += 1
            entry.last = now
            over = entry.count - self._free
            delay = min(self._max, self._base * 2 ** (over - 1)) if over > 0 else 0.0
            entry.blocked_until = now + delay
            self._state[key] = entry
            self._state.move_to_end(key)
            while len(self._state) > self._max_entries:
                self._state.popitem(last=False)
        log.warning(
            "failed sign-in for %r from %s (%d in a row, next attempt in %.0f s)",
            username,
            client,
            entry.count,
            delay,
        )
        return delay

    def success(self, username: str, client: str) -> None:
        with self._lock:
            self._state.pop(self._key(username, client), None)
