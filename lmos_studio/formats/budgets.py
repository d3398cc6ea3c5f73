"""Per-field size budgets for an agent or a channel read from a file, an upload or a registry request.

The file caps (20 MiB a design, 1 MiB a registry body) bound what is read; these bound what one field can
cost later: routing, lint and the graph tokenize every description and example, so one 19 MiB description
would cost minutes and gigabytes. Each budget is far above what a real LMOS agent needs; the message names
the agent, the field and the limit.
"""

from __future__ import annotations

from collections.abc import Callable

from lmos_studio.errors import DesignFileError
from lmos_studio.model import Agent, Channel

MAX_DESCRIPTION_CHARS = 20_000  # an agent's or a capability's description: a few paragraphs at most
MAX_CAPABILITIES = 500  # capabilities of one agent (the largest reference agents have a dozen)
MAX_EXAMPLES = 200  # example utterances of one capability (routers learn from tens)
MAX_EXAMPLE_CHARS = 2_000  # one example utterance: a customer message, not a document
MAX_NAME_CHARS = 253  # a name or version: the longest Kubernetes name (a DNS subdomain)
MAX_REQUIREMENTS = 500  # required capabilities of one channel (as many as an agent may provide)
MAX_LABELS = 64  # labels of one channel (tenant, channel, subset, version and a few of the team's own)


def check_capability_count(name: str, count: int, *, source: str, line: int | None = None) -> None:
    """Refuse `count` capabilities over MAX_CAPABILITIES, as `check_agent` does: readers ask before building
    them (2 000 capability objects cost 50× the bytes of their YAML). Raised here, never kept in a local, so
    a refused document is freed at once (an exception in a local of a frame its traceback holds is a cycle)."""
    if count > MAX_CAPABILITIES:
        raise DesignFileError(
            f"agent {name[:MAX_NAME_CHARS]!r}: {count} capabilities, more than {MAX_CAPABILITIES}; shorten it",
            path=source,
            line=line,
            field="capabilities",
        )


def check_requirement_count(name: str, count: int, *, source: str, line: int | None = None) -> None:
    """Refuse a channel's `count` required capabilities over MAX_REQUIREMENTS before they are built (as
    `check_capability_count`), with `check_channel`'s message."""
    if count > MAX_REQUIREMENTS:
        raise DesignFileError(
            f"channel {name[:MAX_NAME_CHARS]!r}: {count} required capabilities, more than {MAX_REQUIREMENTS}; "
            "shorten it",
            path=source,
            line=line,
            field="spec.requiredCapabilities",
        )


def _refuser(where: str, source: str, line: int | None) -> Callable[[str, str], DesignFileError]:
    """The error for one field of one resource over its budget: "<where>: <message>; shorten it"."""

    def refuse(field: str, message: str) -> DesignFileError:
        return DesignFileError(f"{where}: {message}; shorten it", path=source, line=line, field=field)

    return refuse


def check_agent(agent: Agent, *, source: str, line: int | None = None) -> None:
    """Refuse an agent any of whose fields passes its budget (`DesignFileError` naming the field)."""
    if _within(agent):
        return  # the common case: one pass, no message or field name made
    refuse = _refuser(f"agent {agent.name[:MAX_NAME_CHARS]!r}", source, line)

    if len(agent.name) > MAX_NAME_CHARS:
        raise refuse("name", f"a name of {len(agent.name)} characters, more than {MAX_NAME_CHARS}")
    if len(agent.description) > MAX_DESCRIPTION_CHARS:
        raise refuse(
            "description", f"a description of {len(agent.description)} characters, more than {MAX_DESCRIPTION_CHARS}"
        )
    check_capability_count(agent.name, len(agent.capabilities), source=source, line=line)
    for index, cap in enumerate(agent.capabilities):
        field = f"capabilities[{index}]"
        if len(cap.name) > MAX_NAME_CHARS or len(cap.version) > MAX_NAME_CHARS:
            raise refuse(f"{field}.name", f"a capability name or version longer than {MAX_NAME_CHARS} characters")
        if len(cap.description) > MAX_DESCRIPTION_CHARS:
            raise refuse(
                f"{field}.description",
                f"a description of {len(cap.description)} characters, more than {MAX_DESCRIPTION_CHARS}",
            )
        if len(cap.examples) > MAX_EXAMPLES:
            raise refuse(f"{field}.examples", f"{len(cap.examples)} examples, more than {MAX_EXAMPLES}")
        if max(map(len, cap.examples), default=0) <= MAX_EXAMPLE_CHARS:  # the common case, without a loop
            continue
        for number, example in enumerate(cap.examples):
            if len(example) > MAX_EXAMPLE_CHARS:
                raise refuse(
                    f"{field}.examples[{number}]",
                    f"an example of {len(example)} characters, more than {MAX_EXAMPLE_CHARS}",
                )


def _within(agent: Agent) -> bool:
    """Whether every field of the agent is within its budget (`check_agent` then has nothing to say)."""
    caps = agent.capabilities
    if (
        len(agent.name) > MAX_NAME_CHARS
        or len(agent.description) > MAX_DESCRIPTION_CHARS
        or len(caps) > MAX_CAPABILITIES
    ):
        return False
    for cap in caps:
        examples = cap.examples
        if (
            len(cap.name) > MAX_NAME_CHARS
            or len(cap.version) > MAX_NAME_CHARS
            or len(cap.description) > MAX_DESCRIPTION_CHARS
            or len(examples) > MAX_EXAMPLES
            or (examples and max(map(len, examples)) > MAX_EXAMPLE_CHARS)
        ):
            return False
    return True


def check_channel(channel: Channel, *, source: str, line: int | None = None) -> None:
    """Refuse a channel any of whose fields passes its budget (`DesignFileError` naming the field): its name,
    labels (resolution matches tenant, channel and subset against every agent) and required capabilities."""
    refuse = _refuser(f"channel {channel.name[:MAX_NAME_CHARS]!r}", source, line)

    if len(channel.name) > MAX_NAME_CHARS:
        raise refuse("metadata.name", f"a name of {len(channel.name)} characters, more than {MAX_NAME_CHARS}")
    if len(channel.labels) > MAX_LABELS:
        raise refuse("metadata.labels", f"{len(channel.labels)} labels, more than {MAX_LABELS}")
    for key, value in channel.labels.items():
        if len(key) > MAX_NAME_CHARS or len(value) > MAX_NAME_CHARS:
            raise refuse(
                f"metadata.labels.{key[:MAX_NAME_CHARS]}",
                f"a label key or value longer than {MAX_NAME_CHARS} characters",
            )
    required = channel.required_capabilities
    check_requirement_count(channel.name, len(required), source=source, line=line)
    for index, req in enumerate(required):
        for name, value in (("name", req.name), ("version", req.version), ("id", req.id)):
            if len(value) > MAX_NAME_CHARS:
                raise refuse(
                    f"spec.requiredCapabilities[{index}].{name}",
                    f"a required capability {name} of {len(value)} characters, more than {MAX_NAME_CHARS}",
                )
