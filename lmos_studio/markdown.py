"""Text from designs and registries made safe for Streamlit's Markdown (titles, captions, alerts, expanders).

An agent named `[click](https://evil)` or `**boss**` must show as written, not as a link or bold text, and
`:red[...]`, `:material/x:` or `$…$` must not become colours, icons or formulas. Pure functions; no streamlit.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=\"'&])")  # CommonMark punctuation Streamlit acts on
_NEWLINES = re.compile(r"[\r\n]+")


def escape(text: object) -> str:
    """The text with every Markdown character escaped and line breaks folded to spaces (one line)."""
    return _SPECIAL.sub(r"\\\1", _NEWLINES.sub(" ", str(text)))
