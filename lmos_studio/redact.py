"""Secrets never printed: URLs shown without user-info and with secret-looking query parameters masked.

`redact_url` cleans one URL; `redact_text` every URL inside a message. `LmosStudioError.__str__` applies it,
so every error message (CLI, pages, JUnit files, logs) is clean wherever it is printed. `redact_data` cleans a
JSON document (a description `lmos-studio import` prints): every URL in its texts, and the value of every key
named like a credential (`password`, `apiKey`, `clientSecret`, `accessToken`, a kubeconfig's `client-key-data`;
not `tokenUrl` or `secretName`, nor its public `client-certificate-data`,
nor a URL under such a key: a WoT OAuth2 scheme's `token` is the token endpoint). What `import`, `convert`,
a saved design and an export's studio/design.yaml write of a description goes through it.

A text is also cleaned of what is a secret by its shape wherever it stands (an env value, a label, a routing test
query): a `Bearer`/`Basic` credential (`Bearer ***`), an `sk-…` style API key, a JWT, a PEM private key block,
also in base64 (`SECRET_SHAPES`); and a text holding a JSON document (an annotation such as
`studio.lmos.eclipse/original`) has that document cleaned as `redact_data` cleans one, and is written back as
compact JSON when anything was masked.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s'\"<>`]+")
# A query parameter whose value is a secret, by its name's last word (camelCase, `-`, `_` and `.` split words:
# `access_token`, `X-Amz-Signature`, `subscription-key`, `apiKey`), or by the whole name for words that are
# parts of ordinary names too (`code`, `sig`, `session`: `?code=` is an OAuth code, `country_code` is not;
# `author`, `design`, `keyword` and `monkey` only contain a secret word).
_PARAM_LAST_WORDS = frozenset(
    {"token", "secret", "password", "passwd", "pwd", "apikey", "key", "auth", "credential", "credentials"}
    | {"signature", "sessionid", "jwt", "bearer"}
)
_PARAM_WHOLE_NAMES = frozenset({"code", "sig", "session", "session_id", "sid", "access_key", "api_key"})
_WORD_SPLIT = re.compile(r"[-_.\s]+|(?<=[a-z0-9])(?=[A-Z])")


def secret_param(name: str) -> bool:
    """Whether a query parameter of this name carries a secret (see `_PARAM_LAST_WORDS`)."""
    words = [w for w in _WORD_SPLIT.split(name.strip()) if w]
    if not words:
        return False
    lower = name.strip().lower()
    return words[-1].lower() in _PARAM_LAST_WORDS or lower in _PARAM_WHOLE_NAMES or lower in _PARAM_LAST_WORDS


# A key whose value is a credential: a plain identifier ending in a secret word (`apiKey`, `client_secret`,
# `x-token`). Keys that only mention one (`tokenUrl`, `secretName`, scope names such as `read:token`) keep theirs.
_CREDENTIAL_WORDS = (  # (the plain text every spelling of the word starts with, the word)
    ("passw", r"passw(or)?d"),
    ("pwd", "pwd"),
    ("secret", "secret"),
    ("token", "token"),
    ("api", r"api[-_]?key"),
    ("credential", r"credentials?"),
    ("private", r"private[-_]?key"),
    ("authorization", "authorization"),
    # a key's bytes kept in configuration: a kubeconfig's client-key-data (base64 of a PEM private key),
    # `tls-key-data`, `privateKeyData`; certificates (client-certificate-data, certificate-authority-data) are
    # public (every TLS handshake shows them), and `client-key` is the key file's path: both kept
    ("key-data", "key-data"),
    ("key_data", "key_data"),
    ("keydata", "keydata"),
)
_CREDENTIAL_WORD = "(" + "|".join(word for _, word in _CREDENTIAL_WORDS) + ")"
_CREDENTIAL_KEY = re.compile(rf"(?i)^[a-z0-9_-]*{_CREDENTIAL_WORD}$")
_NUMERIC_CREDENTIAL_KEY = re.compile(r"(?i)^[a-z0-9_-]*(passw(or)?d|pwd|secret)$")


# user-info whose password holds '/', '?' or '#' unescaped (`postgresql://app:pa/ss@db/x`, as typed in a setting):
# URL parsing ends the host at that character and finds no user-info, so the password was shown. A user, ':', then
# a password that is not a port (digits before '/', '?', '#' or the end), up to the URL's last '@'.
_LOOSE_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^@/?#:]*:(?!\d*(?:[/?#]|$))\S*@")


def redact_url(url: str) -> str:
    """The URL without user-info (`user:pass@`) and with secret-looking query values replaced by `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _strip_userinfo(url)
    if "@" not in parts.netloc and "@" in url:
        loose = _LOOSE_USERINFO.match(url)
        if loose:
            return redact_url(loose.group(1) + url[loose.end() :])
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(secret_param(name) for name, _ in pairs):
            query = urlencode([(name, MASK if secret_param(name) else value) for name, value in pairs], safe="*")
    if netloc == parts.netloc and query == parts.query:
        return url  # nothing secret: as written (rebuilding it would drop an empty `#` or `?`)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# A secret by its shape, wherever it stands. A token must hold a digit, so that prose ("Basic authentication",
# "Bearer tokens") is kept; the scheme word of a credential stays (`Bearer ***`).
_CREDENTIAL_SCHEME = re.compile(r"(?i)\b(bearer|basic)(\s+)(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/-]{8,}=*")
# A PEM private key's first line ("-----BEGIN RSA PRIVATE KEY-----", OpenPGP's "… PRIVATE KEY BLOCK-----"), for each
# kind of key (PKCS #8 has none), and the base64 of its whole 3-byte groups: how a PEM key encoded once more in
# base64 starts, as a kubeconfig's client-key-data or a Secret's data holds one.
_PEM_KEY_KINDS = ("", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "PGP ")
_PEM_KEY_LINES = tuple(
    f"-----BEGIN {kind}PRIVATE KEY{' BLOCK' if kind == 'PGP ' else ''}-----" for kind in _PEM_KEY_KINDS
)
_BASE64_PEM_KEY_STARTS = sorted(
    {base64.b64encode(line[: len(line) // 3 * 3].encode()).decode() for line in _PEM_KEY_LINES}
)
_BASE64_PEM = "LS0tLS1CRUdJ"  # base64 of "-----BEGI": every such start holds it
SECRET_SHAPES = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)"  # PEM
    # a PEM private key in base64 (one line, or lines of base64 alone: a YAML block's), to the end of the base64
    rf"|(?<![A-Za-z0-9+/])({'|'.join(_BASE64_PEM_KEY_STARTS)})[A-Za-z0-9+/]*=*"
    r"(\r?\n[ \t]*[A-Za-z0-9+/]+=*(?=\r?\n|\Z))*"
    r"|\bsk-[A-Za-z0-9_-]{20,}"  # OpenAI/Anthropic-style API keys (sk-…, sk-proj-…, sk-ant-…)
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key ids
    r"|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",  # a JWT
    re.DOTALL,
)


# A credential assigned in configuration text (an .env, .properties or .ini line, a YAML or TOML block kept in a
# ConfigMap): `password=hunter2`, `db.password = x`, `client_secret=…` anywhere, `token: x` at the start of a line
# (a key without dots: `spec.password: missing` is a message, not a credential).
# The key must end in a credential word (`tokenUrl=` keeps its value), a value already masked or an environment
# reference (`${DB_PASSWORD}`, `$(TOKEN)`) is kept.
_ASSIGNED_KEY = rf"(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]*{_CREDENTIAL_WORD}"
_ASSIGNED_VALUE = r"(?![*]{3}|\$[({]|(?i:bearer|basic)\s)[^\s'\"#;,&]+"  # not `Bearer ***`: masked as a shape
_ASSIGNED_SECRET = re.compile(
    rf"(?im)(?P<key>{_ASSIGNED_KEY}\s*=\s*['\"]?){_ASSIGNED_VALUE}"
    rf"|(?P<line>^[ \t]*[A-Za-z0-9_-]*{_CREDENTIAL_WORD}[ \t]*:[ \t]+['\"]?){_ASSIGNED_VALUE}"
)
_ASSIGNED_WORDS = tuple(start for start, _ in _CREDENTIAL_WORDS)
_ASSIGNED_LOOSE = re.compile(rf"{_CREDENTIAL_WORD}\s*(=|:[ \t])")  # what every `_ASSIGNED_SECRET` match holds


def _masked_assignment(match: re.Match[str]) -> str:
    return (match.group("key") or match.group("line")) + MASK


def _may_hold_assignment(text: str, lower: str) -> bool:
    """A quick over-estimate of whether `_ASSIGNED_SECRET` matches: an `=` or `:` and a credential word."""
    return ("=" in text or ":" in text) and any(word in lower for word in _ASSIGNED_WORDS)


def _may_hold_shapes(text: str, lower: str | None = None) -> bool:
    """A quick over-estimate of whether `_CREDENTIAL_SCHEME` or `SECRET_SHAPES` match in `text` (`lower`: the
    text lower-cased, when the caller has it): plain substring tests (C speed) of what every match holds, before
    the regular expressions, whose alternatives have no common prefix to scan for (a 10 000-agent design is
    mostly texts without any)."""
    if "sk-" in text or "eyJ" in text or "-----BEGIN" in text or "AKIA" in text or "xox" in text:
        return True
    if _BASE64_PEM in text:
        return True
    if "gh" in text and ("ghp_" in text or "gho_" in text or "ghu_" in text or "ghs_" in text or "ghr_" in text):
        return True
    lower = text.lower() if lower is None else lower
    if "bearer" in lower or "basic" in lower:
        return True
    # "baſic": `(?i)` takes ſ for s, `str.lower` does not
    return not text.isascii() and "\u017f" in text


def has_secret_shape(text: str) -> bool:
    """Whether the text holds a secret by its shape (a Bearer/Basic credential, an API key, a JWT, a private key:
    what `redact_text` masks besides URLs and JSON), wherever it stands."""
    return _may_hold_shapes(text) and bool(_CREDENTIAL_SCHEME.search(text) or SECRET_SHAPES.search(text))


_KEY_CHARS = re.compile(r"[A-Za-z0-9+/=_.-]{20,512}")
_NOT_KEYS = re.compile(  # hex digests (either case) and UUIDs: ids
    r"[0-9a-f]{20,}|[0-9A-F]{20,}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def _class_of(char: str) -> int:
    return 0 if char.islower() else 1 if char.isupper() else 2


def looks_like_key(text: str) -> bool:
    """Whether a value looks like a randomly generated key (`aB3xQ9…`: 20+ letters and digits of both cases,
    switching between lower case, upper case and digits at least every third character, as random text does and
    words such as `MyService2024Production` do not). Hex digests and UUIDs are ids, not keys. Not masked (no rule
    tells such a key from configuration for certain): an export says where one stands."""
    if not _KEY_CHARS.fullmatch(text) or _NOT_KEYS.fullmatch(text):
        return False
    classes = [_class_of(c) for c in text if c.isalnum()]  # separators (`_`, `-`, `/`) switch nothing
    if not {0, 1, 2} <= set(classes):
        return False
    switches = sum(a != b for a, b in itertools.pairwise(classes))
    return len(classes) >= 20 and switches >= 0.35 * (len(classes) - 1)


def redact_text(text: str) -> str:
    """The text with every URL in it redacted (see `redact_url`), secrets by their shape masked, and a JSON
    document it holds cleaned (see the module docstring)."""
    if "://" in text and ("@" in text or "?" in text):  # a URL with user-info or a query
        text = _URL.sub(lambda match: redact_url(match.group(0)), text)
    if _may_hold_shapes(text):
        text = _CREDENTIAL_SCHEME.sub(lambda match: match.group(1) + match.group(2) + MASK, text)
        text = SECRET_SHAPES.sub(MASK, text)
    if _may_hold_assignment(text, text.lower()):
        text = _ASSIGNED_SECRET.sub(_masked_assignment, text)
    return _redacted_json_text(text)


def _redacted_json_text(text: str) -> str:
    """A text holding a JSON object or array with that document's credentials masked (compact JSON then);
    any other text as it is."""
    stripped = text.strip()
    if not ((stripped[:1] == "{" and stripped[-1:] == "}") or (stripped[:1] == "[" and stripped[-1:] == "]")):
        return text
    try:
        document = json.loads(stripped)
    except (ValueError, RecursionError):
        return text
    clean, masked = redact_data(document)
    if not masked:
        return text
    return json.dumps(clean, ensure_ascii=False, separators=(",", ":"))


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


# in a lower-cased JSON text (or JSON inside one of its strings: quotes escaped), a key named like a credential
# (`_CREDENTIAL_KEY`, whose `$` also matches before a final newline: `password\\n`), one expression per word so
# that each starts with plain text (the engine skips to it at C speed; one alternation is tried at every
# character), searched only where that text is; and a `name` naming one (a name/value pair): what the walk masks
# by name. A document without any of them, a URL with user-info or a query, or a secret's shape has nothing to mask.
_CREDENTIAL_KEY_TEXTS = tuple((start, re.compile(rf"{word}(\\*n)?\\*\"\s*:")) for start, word in _CREDENTIAL_WORDS)
_CREDENTIAL_NAME_TEXT = re.compile(rf"\"name\\*\"\s*:\s*\\*\"[^\"]*?{_CREDENTIAL_WORD}(\\*n)?\\*\"")
# a URL (`_URL`) with an `@` or a `?` in it: what `redact_url` may change (user-info, a query); in JSON text too,
# whose escapes only make a URL longer (a TD's `@context` URLs and `@type` keys are not one)
_URL_TO_CLEAN = re.compile(r"://[^\s'\"<>`]*[@?]")
# letters that case-insensitive matching (`_CREDENTIAL_KEY`, `_CREDENTIAL_SCHEME`) takes for i, i and s, while
# `str.lower` keeps them apart from those: a text holding one is walked
_CASE_FOLDED = ("\u0130", "\u0131", "\u017f")  # İ, ı, ſ


def json_may_hold_credentials(text: str) -> bool:
    """Whether the data this is the JSON text of (`ensure_ascii=False`, any separators) may hold what
    `redact_data` masks; False: `redact_data` would give it back as it is (a quick test, no walk)."""
    return _may_hold_credentials(text)


def _may_hold_credentials(value: Any) -> bool:
    """A quick over-estimate of whether `_redacted` would mask anything: one C-speed dump, a few substring tests
    and regular expression searches instead of a Python walk (saving a 10 000-agent design walks every agent's
    endpoints and description; a capability named `reset-password` is not a key named like a credential)."""
    try:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):  # keys JSON cannot hold, a cycle, very deep data: walk it
        return True
    if "\\u" in text or "\\/" in text:  # JSON inside a text (read by `_redacted_json_text`) may spell any
        return True  # letter as `\\u0070` and `/` as `\\/`: nothing is found by its spelling here
    if not text.isascii() and any(letter in text for letter in _CASE_FOLDED):
        return True
    if _URL_TO_CLEAN.search(text):
        return True
    lower = text.lower()
    if _may_hold_shapes(text, lower):
        return True
    starts = [start for start, _ in _CREDENTIAL_WORDS if start in lower]
    if not starts:
        return False
    if any(key.search(lower) for start, key in _CREDENTIAL_KEY_TEXTS if start in starts):
        return True
    if _ASSIGNED_LOOSE.search(lower):  # `password=…`, a line `token: …` in a text (`redact_text`), in JSON too
        return True
    return '"value' in lower and _CREDENTIAL_NAME_TEXT.search(lower) is not None


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
    out: dict[Any, Any] = {}
    named = value.get("name")  # a name/value pair (an env var, a header): the name says what the value is
    pair = isinstance(named, str) and _is_credential(named, value.get("value"))
    for key, item in value.items():
        at = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
        if _is_credential(key, item) or (pair and key == "value"):
            out[key] = MASK
            masked.append(at)
        elif isinstance(item, list | tuple) and item and all(_is_credential(key, one) for one in item):
            out[key] = type(item)(MASK for _ in item)  # `password: [hunter2]`, `apiKeys`-like lists: each masked
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
    if not isinstance(value, str):  # a number is a secret under a password-like key, not a count under `max_token`
        return bool(_NUMERIC_CREDENTIAL_KEY.match(str(key)))
    return bool(_CREDENTIAL_KEY.match(str(key)))
