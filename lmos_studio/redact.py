"""Secrets never printed: URLs shown without user-info and with secret-looking query parameters masked.

`redact_url` cleans one URL; `redact_text` every URL inside a message. `LmosStudioError.__str__` applies it,
so every error message (CLI, pages, JUnit files, logs) is clean wherever it is printed. `redact_data` cleans a
JSON document (a description `lmos-studio import` prints): every URL in its texts, and the value of every key
named like a credential (`password`, `apiKey`, `clientSecret`, `accessToken`; not `tokenUrl` or `secretName`,
nor a URL under such a key: a WoT OAuth2 scheme's `token` is the token endpoint). What `import`, `convert`,
a saved design and an export's studio/design.yaml write of a description goes through it.
"""

from __future__ import annotations

import json
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
_CREDENTIAL_WORD = r"(passw(or)?d|pwd|secret|token|api[-_]?key|credentials?|private[-_]?key)"
_CREDENTIAL_KEY = re.compile(rf"(?i)^[a-z0-9_-]*{_CREDENTIAL_WORD}$")


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
    if "://" not in text or ("@" not in text and "?" not in text):  # no URL, or none with user-info or a query
        return text
    return _URL.sub(lambda match: redact_url(match.group(0)), text)


def _strip_userinfo(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    host_part, slash, tail = rest.partition("/")
    return scheme + sep + host_part.rpartition("@")[2] + slash + tail


MAX_NAMED_FIELDS = 4  # masked fields named in one warning before "and N more"


def named_fields(pointers: list[str]) -> str:
    """What was masked, for a warning: the first few JSON Pointers (never a value), then how many more."""
    more = len(pointers) - MAX_NAMED_FIELDS
    return ", ".join(pointers[:MAX_NAMED_FIELDS]) + (f" and {more} more" if more > 0 else "")


def redact_data(value: Any, pointer: str = "") -> tuple[Any, list[str]]:
    """JSON data with its credentials masked (see the module docstring; a copy where anything changed), and the
    JSON Pointers (RFC 6901) of what was masked."""
    if not _may_hold_credentials(value):
        return value, []
    masked: list[str] = []
    return _redacted(value, pointer, masked), masked


# the words a credential-named key ends in (`_CREDENTIAL_KEY`), as plain lower-case text: a document without
# any of them, and without a URL with user-info or a query, has nothing to mask
_CREDENTIAL_STEMS = ("passw", "pwd", "secret", "token", "apikey", "api_key", "api-key", "credential", "private")


def _may_hold_credentials(value: Any) -> bool:
    """A quick over-estimate of whether `_redacted` would mask anything: one C-speed dump and a few substring
    tests instead of a Python walk (saving a 10 000-agent design walks every agent's endpoints and description)."""
    if isinstance(value, str):
        return "://" in value
    try:
        text = json.dumps(value, ensure_ascii=False, default=str).lower()
    except (TypeError, ValueError, RecursionError):  # keys JSON cannot hold, a cycle, very deep data: walk it
        return True
    if "://" in text and ("@" in text or "?" in text):
        return True
    return any(stem in text for stem in _CREDENTIAL_STEMS)


def _redacted(value: Any, pointer: str, masked: list[str]) -> Any:
    if isinstance(value, str):
        clean = redact_text(value)
        if clean != value:
            masked.append(pointer)
        return clean
    if isinstance(value, list | tuple):  # a model dumped in python mode holds tuples: they stay tuples
        items = [_redacted(item, f"{pointer}/{i}", masked) for i, item in enumerate(value)]
        return tuple(items) if isinstance(value, tuple) else items
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
    """Whether `value` is a credential's value: a text (or number) under a credential-named key, but not a URL
    (a WoT OAuth2 scheme's `token` is the token endpoint's URL; a URL's own secrets go through `redact_url`)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value in ("", MASK):
        return False
    if isinstance(value, str) and _URL.fullmatch(value):
        return False
    return bool(_CREDENTIAL_KEY.match(str(key)))
