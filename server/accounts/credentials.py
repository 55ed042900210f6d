"""Passwords and bearer tokens.

Passwords: argon2id (argon2-cffi) with the OWASP parameters (19 MiB, 2 iterations, 1 lane). Hashes from before
(scrypt, `scrypt$...`) still verify and are replaced by argon2id at the next successful login
(`needs_rehash`). A login for a user that does not exist verifies against a dummy hash, so it takes as long as
one that does (`verify_nobody`). Tokens: 256 random bits, stored as SHA-256.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("admin", "safety_manager", "facilities", "record_keeper", "worker", "auditor")

#: OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1
ARGON2_MEMORY_KIB, ARGON2_TIME, ARGON2_LANES = 19 * 1024, 2, 1


@functools.cache
def _hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=ARGON2_TIME, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_LANES)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, stored: str) -> bool:
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """The stored hash is of another scheme or weaker parameters than today's."""
    if not stored.startswith("$argon2id$"):
        return True
    try:
        return _hasher().check_needs_rehash(stored)
    except InvalidHashError:
        return True


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def verify_nobody(password: str) -> None:
    """Spend the time of one verification on a user that does not exist (no timing oracle for user names)."""
    verify_password(password, _dummy_hash())


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        computed = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                                  dklen=len(_unb64(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, _unb64(digest))


def new_token(prefix: str) -> str:
    """A fresh bearer token: `hzm_<prefix>_<43 url-safe chars>`."""
    return f"hzm_{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
