"""Text from designs and registries made safe for Streamlit's Markdown (titles, captions, alerts, expanders).

An agent named `[click](https://evil)` or `**boss**` must show as written, not as a link or bold text, and
`:red[...]`, `:material/x:` or `$…$` must not become colours, icons or formulas; a bidi override (U+202E) or
another character that is not printable shows as its escape (`visible`), not turning the text around.
Credentials in the text (a link's user-info or token, a Bearer token, an API key: `redact.redact_text`) are
shown as `***`: every design text a page writes as Markdown or inline code passes here. Pure functions; no
streamlit.
"""

from __future__ import annotations

import re

from lmos_studio.redact import redact_text
from lmos_studio.visible import visible

_INLINE = re.compile(r"([\\`*_{}\[\]<>~$|:&])")  # inline markup, links, HTML, entities, colours, maths, icons
_BLOCK_START = re.compile(r"^(\s*|\s*\d+)([-+#=](?<!\d[-+#=])|(?<=\d)[.)])")  # list, heading, ordered item
_NEWLINES = re.compile(r"[\r\n]+")


def escape(text: object) -> str:
    """The text with every Markdown character that could start markup escaped, line breaks folded to spaces.

    Inline characters (`*_[]<>~$|:&` and backslash, backtick, braces) are escaped wherever they are; `-`, `+`,
    `#`, `=` and `1.` only at the start, where they would begin a list or heading, so `billing-agent` stays
    readable in the page source."""
    escaped = _INLINE.sub(r"\\\1", visible(_NEWLINES.sub(" ", redact_text(str(text)))))
    return _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped, count=1)


_BACKTICKS = re.compile(r"`+")


def code(text: object) -> str:
    """The text as an inline code span, shown literally whatever it holds: fenced with one backtick more than
    its longest run of backticks (CommonMark), padded when it starts or ends with one, line breaks folded."""
    flat = visible(_NEWLINES.sub(" ", redact_text(str(text))))
    if not flat:
        return ""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"
