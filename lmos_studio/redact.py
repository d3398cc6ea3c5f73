"""Secrets never printed: URLs shown without user-info and with secret-looking query parameters masked.

`redact_url` cleans one URL; `redact_text` every URL inside a message. `LmosStudioError.__str__` applies it,
so every error message (CLI, pages, JUnit files, logs) is clean wherever it is printed. `redact_data` cleans a
JSON document (a description `lmos-studio import` prints): every URL in its texts, and the value of every key
named like a credential (`password`, `apiKey`, `clientSecret`, `accessToken`; not `tokenUrl` or `secretName`).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s'\"<>`]+")
_SECRET_PARAM = re.compile(
    r"(?i)(token|secret|passw(or)?d|pwd|api[-_]?key|apikey|key|auth|credential|signature|sig|session|code)"
)

# A key whose value is a credential: a plain identifier ending in a secret word (`apiKey`, `client_secret`,
# `x-token`). Keys that only mention one (`tokenUrl`, `secretName`, scope names such as `read:token`) keep theirs.
_CREDENTIAL_KEY = re.compile(
    r"(?i)^[a-z0-9_-]*(passw(or)?d|pwd|secret|token|api[-_]?key|credentials?|private[-_]?key)$"
)


def redact_url(url: str) -> str:
    """The URL without user-info (`user:pass@`) and with secret-looking query values replaced by `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _strip_userinfo(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_PARAM.search(name) for name, _ in pairs):
            query = urlencode(
                [(name, MASK if _SECRET_PARAM.search(name) else value) for name, value in pairs], safe="*"
            )
    if netloc == parts.netloc and query == parts.query:
        return url  # nothing secret: as written (rebuilding it would drop an empty `#` or `?`)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """The text with every URL in it redacted (see `redact_url`)."""
    if "://" not in text:
        return text
    return _URL.sub(lambda match: redact_url(match.group(0)), text)


def _strip_userinfo(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    host_part, slash, tail = rest.partition("/")
    return scheme + sep + host_part.rpartition("@")[2] + slash + tail


def redact_data(value: Any, pointer: str = "") -> tuple[Any, list[str]]:
    """JSON data with its credentials masked (see the module docstring; a copy where anything changed), and the
    JSON Pointers (RFC 6901) of what was masked."""
    masked: list[str] = []
    return _redacted(value, pointer, masked), masked


def _redacted(value: Any, pointer: str, masked: list[str]) -> Any:
    if isinstance(value, str):
        clean = redact_text(value)
        if clean != value:
            masked.append(pointer)
        return clean
    if isinstance(value, list):
        return [_redacted(item, f"{pointer}/{i}", masked) for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        at = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
        if _is_credential(key, item):
            out[key] = MASK
            masked.append(at)
        else:
            out[key] = _redacted(item, at, masked)
    return out


def _is_credential(key: Any, value: Any) -> bool:
    """Whether `value` is a credential's value: a text (or number) under a credential-named key."""
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value in ("", MASK):
        return False
    return bool(_CREDENTIAL_KEY.match(str(key)))
