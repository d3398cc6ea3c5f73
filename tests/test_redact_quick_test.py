"""`redact_data` skips its walk when a quick test of the document's JSON text finds nothing the walk could mask
(saving or exporting a 10 000-agent design, the registry's answers): the quick test must never miss what the
walk masks. Here documents shaped to slip past it: JSON inside a string spelled with escapes, keys and names
ending in a newline (`$` matches before one), letters that only case-insensitive matching equates (ſ, ı, İ),
and URLs near (but not holding) an `@` or a `?`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmos_studio.redact import _redacted, redact_data


def walked(value: Any) -> tuple[Any, list[str]]:
    """What the walk alone gives."""
    masked: list[str] = []
    return _redacted(value, "", masked), masked


@pytest.mark.parametrize(
    "value",
    [
        {"a": '{"u": "https:\\/\\/u:p@h.example/"}'},  # a serializer that escapes `/` (PHP, some Java ones)
        {"a": '{"u": "\\u0073k-0123456789abcdefghijk"}'},  # an sk- key with an escaped letter
        {"a": '{"\\u0070assword": "hunter2"}'},  # a password key with an escaped letter
        '{"\\u0070assword": "hunter2"}',  # the same as a text of its own
        {"password\n": "hunter2"},  # a key ending in a newline
        [{"name": "API_TOKEN\n", "value": "hunter2"}],  # a name/value pair whose name ends in one
        {"ſecret": "hunter2"},  # long s: `(?i)secret` matches it
        {"prıvate_key": "hunter2"},  # dotless i
        {"prİvate_key": "hunter2"},  # dotted capital I (lower-cased to two characters)
    ],
)
def test_the_quick_test_lets_nothing_through_that_the_walk_masks(value: Any) -> None:
    clean, masked = walked(value)
    assert masked, "the example must hold something the walk masks"
    assert redact_data(value) == (clean, masked)


_KEYS = st.sampled_from(
    ["@context", "name", "value", "href", "password\n", "ſecret", "prıvate_key", "apiKey", "tokenUrl", "id"]
)
_TEXTS = st.sampled_from(
    [
        "",
        "https://www.w3.org/2022/wot/td/v1.1",
        "https://h.example/a b@c",
        "a@b https://h.example/x",
        "https://h.example/x'?token=1",
        'https://h.example/x"?token=1',
        "https://h.example/x\n?token=1",
        "https://h.example/a\\@b",
        "https://u:p@h.example/",
        "https://h.example/?token=abc",
        "mailto:bob@h.example?subject=token",
        '{"u": "https:\\/\\/u:p@h.example/"}',
        '{"u": "https:\\/\\/h.example/"}',
        '{"k": "\\u0073k-0123456789abcdefghijk"}',
        '{"\\u0070assword": "x"}',
        '{"password\\n": "x"}',
        '[{"name": "X_TOKEN\\n", "value": "v"}]',
        '{"ſecret": "x"}',
        "baſic dXNlcjpwYXNzd29yZDEyMw==",
        "Bearer\tabc12345xyz",
        "line\u0001 with a control character",
    ]
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXTS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS | st.text(max_size=4), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=300)
@given(_JSON)
def test_redact_data_gives_what_the_walk_gives(value: Any) -> None:
    assert redact_data(value) == walked(value)


@settings(max_examples=200)
@given(_JSON)
def test_the_registry_server_sends_what_the_walk_masks(value: Any) -> None:
    """`dumps_safe` dumps an answer once and sends it as it is when the quick test finds nothing to mask."""
    from lmos_studio.registry.server import dumps_safe

    expected = json.dumps(walked(value)[0], ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    assert dumps_safe(value) == expected.encode("utf-8")
