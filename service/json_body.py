"""A request body parsed as JSON within bounds, or the reason it is refused (a 400, never a 500).

Python's json module recurses once per nesting level: a body of a few thousand "[" raises RecursionError, which
no ``silent=True`` catches, and every such request would count as a server error, feed the 5xx alarms and roll
back a healthy release. So the depth is measured first, in one pass over the bytes, before anything recurses.
The size is bounded earlier still, by Flask's MAX_CONTENT_LENGTH (413).
"""

from __future__ import annotations

import json
from typing import Any

# The records API takes a flat object; a few levels leave room for clients' envelopes, not for attacks.
MAX_DEPTH = 32
_OPEN, _CLOSE, _QUOTE, _ESCAPE = frozenset(b"[{"), frozenset(b"]}"), ord('"'), ord("\\")


class InvalidBody(ValueError):
    """The body is not JSON the API can read; the message says why, for the client."""


def depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in ``raw``, brackets inside strings not counted."""
    deepest = level = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _ESCAPE:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            level += 1
            deepest = max(deepest, level)
        elif byte in _CLOSE:
            level -= 1
    return deepest


def parse(raw: bytes) -> Any:
    """:raise InvalidBody: nested deeper than MAX_DEPTH, not UTF-8 JSON, or a value Python refuses to read (an
    integer of more than 4,300 digits)."""
    nested = depth(raw)
    if nested > MAX_DEPTH:
        raise InvalidBody(f"body is nested {nested} levels deep; at most {MAX_DEPTH} are accepted")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidBody(f"body is not valid JSON ({type(error).__name__})") from None
