"""The path syntax that picks a value out of a JSON payload: pure, no I/O.

    path     := "$" | segment ("." segment)*
    segment  := (key | quoted) index*  |  index+
    key      := one or more characters other than  .  "  [  ]
    quoted   := '"' characters, with \\" and \\\\ escaped '"'
    index    := "[" digits "]"

Examples: `SDS0X1.PM10`; `PMS5003."PM2.5"` (a key containing a dot is quoted); `readings[0].value`;
`[2]` (the third element of a top-level list); `$` (the whole payload: a plain number such as ESPHome's `27.00`).
Keys are matched exactly (case and spaces count). In TOML, write the path as a literal string so the quotes need
no escaping: `path = 'PMS5003."PM2.5"'`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Step = str | int  # a dict key or a list index


class PathSyntaxError(ValueError):
    """A path that does not follow the syntax (raised when the config is loaded)."""


class PathNotFound(LookupError):
    """The payload has no value at this path."""


@dataclass(frozen=True, slots=True)
class Path:
    text: str
    steps: tuple[Step, ...]

    def lookup(self, document: Any) -> Any:
        """The value at this path in a decoded JSON document. Raises PathNotFound."""
        node = document
        for i, step in enumerate(self.steps):
            if isinstance(step, int):
                if not isinstance(node, list) or step >= len(node):
                    raise PathNotFound(f"{self.text}: no element [{step}]")
                node = node[step]
            else:
                if not isinstance(node, dict) or step not in node:
                    raise PathNotFound(f"{self.text}: no key {step!r}{_quote_hint(node, self.steps[i:])}")
                node = node[step]
        return node


def _quote_hint(node: Any, rest: tuple[Step, ...]) -> str:
    """A hint when the payload has a key with a dot that the path split (PM2.5 written unquoted)."""
    if not isinstance(node, dict):
        return ""
    keys = [s for s in rest if isinstance(s, str)]
    for n in range(2, len(keys) + 1):
        joined = ".".join(keys[:n])
        if joined in node:
            return f' (the payload has the key "{joined}": quote it)'
    return ""


def parse_path(text: str) -> Path:
    """Compile a path. Raises PathSyntaxError with the position of the first error."""
    if text == "$":
        return Path(text, ())
    if not text:
        raise PathSyntaxError('empty path (use "$" for the whole payload)')
    steps: list[Step] = []
    i, n = 0, len(text)
    while True:
        # one segment: an optional key (bare or quoted), then any number of [n]
        start_steps = len(steps)
        if i < n and text[i] == '"':
            i += 1
            key: list[str] = []
            while True:
                if i >= n:
                    raise PathSyntaxError(f"{text!r}: unterminated quoted key")
                c = text[i]
                if c == "\\":
                    if i + 1 >= n or text[i + 1] not in '"\\':
                        raise PathSyntaxError(f'{text!r}: only \\" and \\\\ may be escaped (position {i})')
                    key.append(text[i + 1])
                    i += 2
                elif c == '"':
                    i += 1
                    break
                else:
                    key.append(c)
                    i += 1
            steps.append("".join(key))
        else:
            j = i
            while j < n and text[j] not in '."[]':
                j += 1
            if j > i:
                steps.append(text[i:j])
            i = j
        while i < n and text[i] == "[":
            close = text.find("]", i)
            digits = text[i + 1 : close] if close > 0 else ""
            if not digits.isdigit() or not digits.isascii():
                raise PathSyntaxError(f"{text!r}: an index is [digits] (position {i})")
            steps.append(int(digits))
            i = close + 1
        if len(steps) == start_steps:
            raise PathSyntaxError(f"{text!r}: empty segment (position {i})")
        if i == n:
            return Path(text, tuple(steps))
        if text[i] != ".":
            raise PathSyntaxError(f"{text!r}: unexpected {text[i]!r} at position {i} (quote keys with dots)")
        i += 1
        if i == n:
            raise PathSyntaxError(f"{text!r}: ends with a dot")
