"""Secrets never leave the API in clear: notification URLs (apprise `mailtos://user:password@host`,
`?pass=...`, `?token=...`), webhook secrets and delivery errors are shown with their secrets as `***`."""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<secret>[^@/\s]+)@")
_QUERY = re.compile(r"(?i)(?P<key>[?&;](?:pass|password|passwd|pwd|secret|token|key|apikey|api_key|auth)=)"
                    r"(?P<secret>[^&#\s]*)")
#: fields whose whole value is a secret
SECRET_FIELDS = frozenset({"secret", "password", "token"})


def mask_text(text: str) -> str:
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _QUERY.sub(lambda m: f"{m['key']}{MASK}", text)


def mask(value: Any) -> Any:
    """`value` (JSON-like) with every secret masked: URL passwords and secret parameters in any string, and the
    whole value of a field named like a secret."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, dict):
        return {k: (MASK if k in SECRET_FIELDS and v else mask(v)) for k, v in value.items()}
    return value
