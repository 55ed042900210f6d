"""Passwords and bearer tokens. Passwords: scrypt (stdlib). Tokens: 256 random bits, stored as SHA-256."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ROLES = ("admin", "safety_manager", "facilities", "record_keeper", "worker", "auditor")

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    computed = hashlib.scrypt(
        password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(_unb64(digest))
    )
    return hmac.compare_digest(computed, _unb64(digest))


def new_token(prefix: str) -> str:
    """A fresh bearer token: `hzm_<prefix>_<43 url-safe chars>`."""
    return f"hzm_{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
