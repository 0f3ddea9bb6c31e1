"""Passwords, access tokens, API keys, CSRF tokens and the sign-in throttle."""

from __future__ import annotations

import base64
import json
import logging

import jwt
import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from api.security import (
    AccessTokens,
    ApiKeys,
    CsrfTokens,
    InvalidToken,
    Passwords,
    SignInThrottle,
    derive_key,
)

SECRET = b"s" * 40
OTHER = b"o" * 40


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_password_hash_is_argon2_and_verifies() -> None:
    pw = Passwords()
    hashed = pw.hash("正确的密码 horse")
    assert hashed.startswith("$argon2id$")
    assert "正确的密码" not in hashed
    assert pw.verify("正确的密码 horse", hashed) == (True, None)
    assert pw.verify("wrong", hashed) == (False, None)
    assert pw.verify("x", "not a hash") == (False, None)
    with pytest.raises(ValueError):
        pw.hash("")


def test_outdated_hash_is_rehashed_on_verify() -> None:
    weak = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8 * 1024),))
    old = weak.hash("pw-1234")
    ok, new = Passwords().verify("pw-1234", old)
    assert ok and new is not None and new != old
    assert Passwords().verify("pw-1234", new) == (True, None)
    assert Passwords().verify("bad", old) == (False, None)


def test_token_round_trip_and_claims() -> None:
    clock = Clock()
    tokens = AccessTokens(SECRET, 3600, clock=clock)
    token = tokens.issue("user-7", version=3)
    claims = tokens.decode(token, current_version=3)
    assert (claims.subject, claims.version) == ("user-7", 3)
    assert claims.expires_at - claims.issued_at == 3600
    assert claims.token_id
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "HS256"
    assert tokens.decode(tokens.issue("user-7", 3)).token_id != claims.token_id


def test_token_expires_on_the_injected_clock() -> None:
    clock = Clock()
    tokens = AccessTokens(SECRET, 600, clock=clock, leeway_s=0)
    token = tokens.issue("u", 0)
    clock.t += 599
    tokens.decode(token)
    clock.t += 2
    with pytest.raises(InvalidToken, match="expired"):
        tokens.decode(token)


def test_bumping_the_token_version_revokes() -> None:
    tokens = AccessTokens(SECRET, 600)
    token = tokens.issue("u", 1)
    with pytest.raises(InvalidToken, match="revoked"):
        tokens.decode(token, current_version=2)


def test_forged_and_confused_tokens_are_refused() -> None:
    clock = Clock()
    tokens = AccessTokens(SECRET, 600, clock=clock)
    good = tokens.issue("u", 0)
    claims = jwt.decode(good, options={"verify_signature": False})
    other_key = AccessTokens(OTHER, 600, clock=clock).issue("u", 0)
    unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    hs512 = jwt.encode(claims, derive_key(SECRET, "jwt") * 2, algorithm="HS512")
    raw_secret = jwt.encode(claims, SECRET, algorithm="HS256")  # not the derived key
    no_ver = jwt.encode(
        {k: v for k, v in claims.items() if k != "ver"}, derive_key(SECRET, "jwt"), "HS256"
    )
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for bad in (other_key, unsigned, hs512, raw_secret, no_ver, tampered, "x.y.z", ""):
        with pytest.raises(InvalidToken):
            tokens.decode(bad)


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        AccessTokens(b"short", 600)


def test_api_key_is_stored_only_as_keyed_hash() -> None:
    keys = ApiKeys(SECRET)
    issued = keys.generate()
    assert issued.key.startswith(f"swk_{issued.prefix}_")
    assert issued.key not in issued.digest and len(issued.digest) == 64
    assert ApiKeys.prefix_of(issued.key) == issued.prefix
    assert keys.verify(issued.key, issued.digest)
    assert not keys.verify(issued.key[:-1] + ("A" if issued.key[-1] != "A" else "B"), issued.digest)
    # the same key under another server secret does not verify: the digest is keyed
    assert not ApiKeys(OTHER).verify(issued.key, issued.digest)
    assert len({keys.generate().key for _ in range(50)}) == 50


@pytest.mark.parametrize(
    "key", ["", "swk", "swk_abc_" + "x" * 40, "abc_0123abcd_" + "x" * 40, "swk_0123abcd_short"]
)
def test_malformed_api_keys_have_no_prefix(key: str) -> None:
    assert ApiKeys.prefix_of(key) is None


def test_csrf_token_is_tied_to_its_session() -> None:
    csrf = CsrfTokens(SECRET)
    token = csrf.issue("session-a")
    assert csrf.verify("session-a", token)
    assert not csrf.verify("session-b", token)
    assert not CsrfTokens(OTHER).verify("session-a", token)
    nonce, mac = token.split(".")
    for bad in (None, "", nonce, f"{nonce}.{'0' * len(mac)}", f"x{nonce}.{mac}", token + ".x"):
        assert not csrf.verify("session-a", bad)
    assert csrf.issue("session-a") != token


def test_throttle_slows_down_exponentially(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock(0.0)
    throttle = SignInThrottle(clock=clock, free_failures=3, base_delay_s=1, max_delay_s=8)
    with caplog.at_level(logging.WARNING, logger="api.security"):
        delays = [throttle.failure("Alice", "10.0.0.1") for _ in range(3)]
    assert delays == [0, 0, 0]
    assert throttle.retry_after("alice", "10.0.0.1") == 0
    assert "Alice" in caplog.text and "10.0.0.1" in caplog.text
    waits = []
    for _ in range(5):
        waits.append(throttle.failure("alice", "10.0.0.1"))
        assert throttle.retry_after("ALICE ", "10.0.0.1") == waits[-1]
        clock.t += waits[-1]
        assert throttle.retry_after("alice", "10.0.0.1") == 0
    assert waits == [1, 2, 4, 8, 8]
    # another client, or another user, is not slowed by alice's failures
    assert throttle.retry_after("alice", "10.0.0.2") == 0
    assert throttle.retry_after("bob", "10.0.0.1") == 0


def test_throttle_resets_on_success_and_forgets_old_failures() -> None:
    clock = Clock(0.0)
    throttle = SignInThrottle(clock=clock, free_failures=0, base_delay_s=5, forget_after_s=100)
    assert throttle.failure("u", "c") == 5
    throttle.success("u", "c")
    assert throttle.retry_after("u", "c") == 0
    assert throttle.failure("u", "c") == 5
    assert throttle.failure("u", "c") == 10
    clock.t += 101
    assert throttle.retry_after("u", "c") == 0
    assert throttle.failure("u", "c") == 5


def test_throttle_memory_is_bounded() -> None:
    throttle = SignInThrottle(clock=Clock(0.0), free_failures=0, max_entries=10)
    for i in range(100):
        throttle.failure(f"user{i}", "c")
    assert throttle.retry_after("user99", "c") > 0
    assert throttle.retry_after("user0", "c") == 0
