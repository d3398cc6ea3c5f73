"""Secrets never printed: URLs shown without user-info and with secret-looking query parameters masked.

`redact_url` cleans one URL; `redact_text` every URL inside a message. `LmosStudioError.__str__` applies it,
so every error message (CLI, pages, JUnit files, logs) is clean wherever it is printed.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s'\"<>`]+")
_SECRET_PARAM = re.compile(
    r"(?i)(token|secret|passw(or)?d|pwd|api[-_]?key|apikey|key|auth|credential|signature|sig|session|code)"
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
