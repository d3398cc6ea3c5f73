"""The messages a design's channels must not answer (StudioDesign `spec.routing.outOfScope`): pure edits that
return new Designs.

A message listed is answered "no agent" when it comes again, spacing and case aside (`RouteResult.listed`,
`"rejected_by": "listed"`), and listed messages join the channel's "nearer elsewhere" background
(routing/threshold.py), so messages nearer to one than to anything the channel handles are rejected too. They
can only add rejections: the signal's limit is calibrated without them. What they buy on messages that were
not listed is measured by `benchmarks/listed_out_of_scope.py` (small on near-misses of other topics).

An example names its channel by name, or by `namespace/name` where several namespaces share the name; an empty
channel lists it for every channel (and for routing over all agents).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

from lmos_studio.errors import EditError
from lmos_studio.model import MAX_OUT_OF_SCOPE, Channel, Design, OutOfScopeExample, message_key


def channel_ref(design: Design, channel: str) -> str:
    """How an example names `channel` (a Channel's key, name or channel label, as routing and `eval` read a
    reference: `Design.channels_named`; "" = every channel): its name when no other Channel of the design has
    it, else its key. EditError for a channel the design does not have, or an ambiguous reference."""
    if not channel:
        return ""
    found = design.channels_named(channel)
    if not found:
        known = ", ".join(sorted(c.key for c in design.channels)) or "none"
        raise EditError(
            f"no channel {channel!r} in the design (channels: {known}); name one, or none for every channel"
        )
    if len(found) > 1:
        raise EditError(f"{channel!r} names {len(found)} channels: name one of {sorted(c.key for c in found)}")
    only = found[0]
    return only.name if sum(c.name == only.name for c in design.channels) == 1 else only.key


def _channels(design: Design, ref: str) -> list[Channel]:
    return [c for c in design.channels if ref in (c.key, c.name)]


def _example(text: str, channel: str) -> OutOfScopeExample:
    try:
        return OutOfScopeExample(text=text, channel=channel)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise EditError(f"out-of-scope example {text[:60]!r}: {problem}") from None


def _same_channel(design: Design, a: str, b: str) -> bool:
    """Whether two channel refs of examples name the same Channel(s) ("" only matches "")."""
    if a == b or not a or not b:
        return a == b
    named = {c.key for c in _channels(design, a)}
    return bool(named) and named == {c.key for c in _channels(design, b)}


def listed(design: Design, text: str, channel: str = "") -> bool:
    """Whether the design already lists `text` for `channel` (or for every channel), spacing and case aside:
    as routing matches a listed message (`model.message_key`)."""
    probe = message_key(text)
    return any(
        message_key(e.text) == probe and (not e.channel or _same_channel(design, e.channel, channel))
        for e in design.routing.out_of_scope
    )


def add_out_of_scope(design: Design, texts: Iterable[str], *, channel: str = "") -> Design:
    """The design with these messages listed as out of scope for `channel` (a name or key; "" = every
    channel). A message already listed there (or for every channel) stays once, case aside; blank texts are
    refused."""
    ref = channel_ref(design, channel)
    added: list[OutOfScopeExample] = []
    for text in texts:
        example = _example(text, ref)
        if listed(design, example.text, ref) or any(message_key(a.text) == message_key(example.text) for a in added):
            continue
        added.append(example)
    if not added:
        return design
    examples = (*design.routing.out_of_scope, *added)
    if len(examples) > MAX_OUT_OF_SCOPE:
        raise EditError(
            f"the design would list {len(examples)} out-of-scope examples; at most {MAX_OUT_OF_SCOPE}: remove some "
            "first (each one is embedded when a channel is fitted)"
        )
    return design.replace(routing=design.routing.model_copy(update={"out_of_scope": examples}))


def add_rows(design: Design, rows: Iterable[tuple[str, str]]) -> Design:
    """`add_out_of_scope` for (text, channel) rows, each listed for its own channel ("" = every channel): an
    evaluation's missed out-of-scope rows, or a labelled CSV's."""
    by_channel: dict[str, list[str]] = {}
    for text, channel in rows:
        by_channel.setdefault(channel, []).append(text)
    for channel, texts in by_channel.items():
        design = add_out_of_scope(design, texts, channel=channel)
    return design


def remove_out_of_scope(design: Design, texts: Iterable[str], *, channel: str | None = None) -> Design:
    """The design without these listed messages: for `channel` only when given ("" = those listed for every
    channel), else wherever they are listed. EditError naming a message the design does not list."""
    wanted = [_example(t, "").text for t in texts]
    kept = list(design.routing.out_of_scope)
    for text in wanted:
        match = [
            e
            for e in kept
            if message_key(e.text) == message_key(text)
            and (channel is None or _same_channel(design, e.channel, channel))
        ]
        if not match:
            where = "" if channel is None else f" for {'every channel' if not channel else repr(channel)}"
            raise EditError(f"the design does not list {text!r} as out of scope{where}")
        kept = [e for e in kept if e not in match]
    return design.replace(routing=design.routing.model_copy(update={"out_of_scope": tuple(kept)}))
