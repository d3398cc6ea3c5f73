"""Items a registry source could not read (channels, Channel and Agent resources, TDs, parts of a
ChannelRouting), said once: one message per kind, however many failed.

A source's reads degrade item by item, and 200 failing items were 200 warnings on the Registry page and 200
lines on stderr. `report` keeps every item (`SourceResult.unread`: the JSON output and the page list them all)
and says them in one message: how many of how many, per reason (most frequent first) with the first few names.
One failure keeps its own message. Pure functions; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lmos_studio.errors import DesignFileError

UNREAD_NAMES = 3  # a message about many unread items names this many of each reason; `unread` holds them all
UNREAD_REASONS = 4  # … and this many reasons (the most frequent first)
REASON_CHARS = 120  # a reason longer than this is cut: it groups items, the whole message is kept apart

# what each kind of item is called in messages and on the page, one and many
NOUNS = {
    "channel": ("channel", "channels"),  # a channel whose ChannelRouting could not be read
    "Channel": ("Channel", "Channels"),  # an item of a tenant's channel list that is no readable Channel
    "ChannelRouting part": ("ChannelRouting part", "ChannelRouting parts"),  # left out of a routing read
    "TD": ("TD", "TDs"),
    "Agent": ("Agent resource", "Agent resources"),
    "service": ("announced service", "announced services"),  # a local network (mDNS) service not read
}


@dataclass(frozen=True)
class Unread:
    """An item a source could not read, or read only in part: its kind (a key of `NOUNS`), which one (`item`: a
    channel's or resource's name, a TD's id, else where it stands: "item 3"), why in short (`reason`, the same for
    every item that failed alike: "not found (404)"), the whole message, and its operator tenant ("" elsewhere)."""

    kind: str
    item: str
    reason: str
    message: str
    tenant: str = ""


def noun(kind: str, count: int) -> str:
    """`count` items of `kind` in words: "1 channel", "200 TDs"."""
    one, many = NOUNS.get(kind, (kind, f"{kind}s"))
    return f"{count} {one if count == 1 else many}"


def reason_of(message: str, *, after: str = "") -> str:
    """What went wrong in short, for grouping: `message` without what comes before `after` (the URL, the item's
    name) and without the server's or the format's own words past the first `: ` or `; `; list positions written
    `[]`, so `capabilities[3]` and `capabilities[7]` failing alike group together."""
    text = message.split(after, 1)[1] if after and after in message else message
    return _positions(re.split(r": |; ", text.strip(), maxsplit=1)[0])[:REASON_CHARS]


def _positions(text: str) -> str:
    """`text` with each list position written `[]`."""
    return re.sub(r"\[\d+\]", "[]", text)


def design_reason(exc: DesignFileError, *, kind: str) -> str:
    """`reason_of` a resource the format refused: its field and what is wrong, without the resource's name (the
    format names it first: "Channel odd: must be …", for `kind` Channel): `spec: must be a mapping, not a
    string`."""
    what = reason_of(exc.reason.split(": ", 1)[-1] if exc.reason.startswith(kind) else exc.reason)
    field = _positions(exc.field or "")
    return (f"{field}: {what}" if field else what)[:REASON_CHARS]


def said_once(unread: Sequence[Unread], *, where: str, counted: str) -> str:
    """One message for items of one kind: the item's own message for one; for more, `where` (the source's URL),
    `counted` (how many of how many and what it means: "200 of 202 channels could not be read, so their agents
    are missing"), per reason (most frequent first) the first few names, and where the whole list is."""
    if len(unread) == 1:
        return unread[0].message
    several = len({u.tenant for u in unread}) > 1
    groups: dict[str, list[str]] = {}
    for u in unread:
        groups.setdefault(u.reason, []).append(f"{u.tenant}/{u.item}" if several else u.item)
    ranked = sorted(groups.items(), key=lambda kv: -len(kv[1]))
    parts = [f"{len(names)} × {reason} ({_first(names)})" for reason, names in ranked[:UNREAD_REASONS]]
    if len(ranked) > UNREAD_REASONS:
        rest = sum(len(names) for _, names in ranked[UNREAD_REASONS:])
        parts.append(f"{rest} for {len(ranked) - UNREAD_REASONS} other reasons")
    every = NOUNS.get(unread[0].kind, (unread[0].kind, ""))[0]
    return (
        f"{where}: {counted}: {'; '.join(parts)}. Every {every} and why: `registry search -o json` (its `unread` "
        "list), or on the Registry page the list under this message"
    )


def _first(names: list[str]) -> str:
    """The first `UNREAD_NAMES` names, and how many more."""
    shown = ", ".join(names[:UNREAD_NAMES])
    return f"{shown} and {len(names) - UNREAD_NAMES} more" if len(names) > UNREAD_NAMES else shown
