"""The one design model every view, command and export uses.

Frozen pydantic models: an edit makes a new `Design` (which is what undo/redo keeps). Agents and Channels
carry every field of the LMOS `Agent`/`Channel` resources plus what other description formats add
(endpoints, security, workload); fields we do not model are kept in `extras` maps and written back.
Versions are always strings. Reading and writing files lives in `formats/`, not here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from functools import cached_property
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from lmos_studio.stop_words import STOP_WORDS

DEFAULT_NAMESPACE = "default"
DEFAULT_SUBSET = "stable"  # the operator's default when an Agent or Channel has no `subset` label
GROUP_PREFIX = "group:"
CHANNEL_PREFIX = "channel:"
LAYOUT_POSITIONS = "positions"  # Design.layout["positions"]: graph node id → [x, y], as the user dragged them
Strategy = Literal["HIGHEST", "MOST_SIMILAR"]
CHANNEL_LABELS = ("tenant", "channel", "version", "subset")


class Frozen(BaseModel):
    """Immutable, camelCase on the wire, snake_case in Python; unknown keys are an error here
    (readers in `formats/` move unknown keys into `extras` first)."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


_M = TypeVar("_M", bound=Frozen)
_new = object.__new__
_set = object.__setattr__


def checked_model(cls: type[_M], values: dict[str, Any], unset: frozenset[str] = frozenset()) -> _M:
    """The model `cls(**values)` makes, without validating again, for a reader that checked the values already:
    `values` names every field in the class's order, each value of the exact type validation would give (`str`,
    not a str subclass; a tuple of such; a new dict of plain data; models). Half the cost of validation, for
    the tens of thousands of models a large design holds (tests/test_checked_models.py compares both). `unset`:
    the fields the caller left at their defaults (values holds the defaults; validation would not count them as
    set)."""
    item = _new(cls)
    _set(item, "__dict__", values)
    _set(item, "__pydantic_fields_set__", values.keys() - unset if unset else set(values))
    _set(item, "__pydantic_extra__", None)
    _set(item, "__pydantic_private__", None)
    return item


def updated_model(item: _M, update: dict[str, Any]) -> _M:
    """`item.model_copy(update=update)` (which does not validate either) at a third of its cost, for a model
    without extras or private attributes (a reader's 10 000 agents)."""
    copy = _new(item.__class__)
    _set(copy, "__dict__", {**item.__dict__, **update})
    _set(copy, "__pydantic_fields_set__", item.__pydantic_fields_set__ | update.keys())
    _set(copy, "__pydantic_extra__", None)
    _set(copy, "__pydantic_private__", None)
    return copy


class Capability(Frozen):
    """A capability an agent provides (`spec.providedCapabilities[]`)."""

    name: str
    version: str
    id: str = ""
    description: str = ""
    examples: tuple[str, ...] = ()
    extras: dict[str, Any] = Field(default_factory=dict)


class RequiredCapability(Frozen):
    """A capability a Channel requires (`spec.requiredCapabilities[]`); `version` is a range."""

    name: str
    version: str
    id: str = ""
    strategy: Strategy = "HIGHEST"
    strategy_given: bool = False  # whether the file spelled `strategy` out (written back only then)
    extras: dict[str, Any] = Field(default_factory=dict)


class Endpoint(Frozen):
    """Where and how an agent is reached: `protocol` is http, https, ws, wss, mqtt, a2a, grpc, …"""

    protocol: str
    uri: str = ""
    subprotocol: str = ""  # e.g. `lmosprotocol` for LMOS over WebSocket
    transport: str = ""  # A2A transport name (JSONRPC, GRPC, HTTP+JSON) when it came from a card
    extras: dict[str, Any] = Field(default_factory=dict)


class SecurityScheme(Frozen):
    """A security scheme from a TD or an A2A card (never a secret value).

    `alternative`: which of the agent's security alternatives the scheme belongs to. A caller satisfies one
    alternative (an A2A card's `security` / `securityRequirements` entry, a branch of a TD `combo`'s `oneOf`),
    and every scheme of it (AND). All 0, the default: one alternative, every scheme required. A scheme in two
    alternatives is listed once for each (its required scopes may differ). An alternative of one `nosec` scheme
    (NOSEC) is "no authentication is also accepted" (an A2A card's `{}` entry, a TD `oneOf` member `nosec`); the
    only alternative is never one: an agent without security has none."""

    name: str
    scheme: str  # bearer, basic, oauth2, apikey, nosec, openIdConnect, mtls, …
    extras: dict[str, Any] = Field(default_factory=dict)
    alternative: int = 0


NOSEC = "nosec"  # the scheme of an alternative that requires nothing (TD name; A2A writes it as `{}`)


def security_alternatives(schemes: tuple[SecurityScheme, ...]) -> list[list[SecurityScheme]]:
    """The schemes grouped by `alternative`, in the order the alternatives first appear ([] for none)."""
    groups: dict[int, list[SecurityScheme]] = {}
    for scheme in schemes:
        groups.setdefault(scheme.alternative, []).append(scheme)
    return list(groups.values())


class EnvVar(Frozen):
    """A workload environment variable: a literal value or a reference to a Secret key."""

    name: str
    value: str | None = None
    secret_name: str | None = None
    secret_key: str | None = None


class Workload(Frozen):
    """How to run an agent when exporting Deployments (optional)."""

    image: str = ""
    replicas: int = 1
    port: int = 8080  # the runtime calls <agent>.<namespace>.svc.cluster.local:8080
    env: tuple[EnvVar, ...] = ()
    serves_capabilities_document: bool = False  # serves /.well-known/capabilities.json → lmos-agent=true
    service_account: str = ""


class Agent(Frozen):
    """An LMOS `Agent` plus what other formats add; identity is (namespace, name)."""

    name: str
    namespace: str = DEFAULT_NAMESPACE
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    id: str = ""
    description: str = ""
    supported_tenants: tuple[str, ...] = ()
    supported_channels: tuple[str, ...] = ()
    capabilities: tuple[Capability, ...] = ()
    endpoints: tuple[Endpoint, ...] = ()
    security: tuple[SecurityScheme, ...] = ()
    workload: Workload | None = None
    source: str = ""  # where the description came from (file, registry URL); not written to manifests
    original_format: str = ""  # td | a2a | capabilities | routing-spec when imported from another format
    original: dict[str, Any] = Field(default_factory=dict)  # that document verbatim: nothing is lost
    metadata_extras: dict[str, Any] = Field(default_factory=dict)  # unknown keys under metadata
    spec_extras: dict[str, Any] = Field(default_factory=dict)  # unknown keys under spec
    extras: dict[str, Any] = Field(default_factory=dict)  # unknown top-level keys (e.g. status)

    @property
    def subset(self) -> str:
        return self.labels.get("subset", DEFAULT_SUBSET)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def protocols(self) -> tuple[str, ...]:
        return tuple(sorted({e.protocol for e in self.endpoints}))

    @property
    def host(self) -> str:
        """The host the LMOS runtime calls (the operator's ChannelRouting form)."""
        return f"{self.name}.{self.namespace}.svc.cluster.local"

    def capability(self, name: str) -> Capability | None:
        return next((c for c in self.capabilities if c.name == name), None)


class Channel(Frozen):
    """An LMOS `Channel`: tenant × channel × subset with required capabilities."""

    name: str
    namespace: str = DEFAULT_NAMESPACE
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    required_capabilities: tuple[RequiredCapability, ...] = ()
    metadata_extras: dict[str, Any] = Field(default_factory=dict)
    spec_extras: dict[str, Any] = Field(default_factory=dict)
    extras: dict[str, Any] = Field(default_factory=dict)  # e.g. a status written by the operator

    @property
    def tenant(self) -> str | None:
        return self.labels.get("tenant")

    @property
    def channel(self) -> str | None:
        return self.labels.get("channel")

    @property
    def subset(self) -> str:
        return self.labels.get("subset", DEFAULT_SUBSET)

    @property
    def version(self) -> str | None:
        return self.labels.get("version")

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def missing_labels(self) -> tuple[str, ...]:
        """The `CHANNEL_LABELS` this Channel lacks (absent or empty), which export refuses: the operator and the
        runtime find Channels by all four (LMOS.md §1.3). An absent `subset` is not one: export writes the operator's
        default for it."""
        labels = self.labels
        return tuple(k for k in CHANNEL_LABELS if not labels.get(k) and (k != "subset" or k in labels))


class ChannelRollout(Frozen):
    """An LMOS `ChannelRollout`: canary weights between two Channels (inert in the operator)."""

    name: str
    namespace: str = DEFAULT_NAMESPACE
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    canary_channel: str
    canary_weight: int = 0
    stable_channel: str
    stable_weight: int = 0
    metadata_extras: dict[str, Any] = Field(default_factory=dict)
    spec_extras: dict[str, Any] = Field(default_factory=dict)
    extras: dict[str, Any] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


class Group(Frozen):
    """A custom group of agents (e.g. "billing domain", "PCI zone"); members are agent names."""

    name: str
    members: tuple[str, ...] = ()
    description: str = ""
    labels: dict[str, str] = Field(default_factory=dict)

    def repeated_member(self) -> tuple[int, int] | None:
        """The first member (position) that names agents an earlier member already names, with that earlier
        member's position: the same text twice, or a bare name (that agent in every namespace) and an
        `ns/name` of it, in either order. None: every member names its own agents."""
        exact: dict[str, int] = {}
        bare: dict[str, int] = {}  # name → position of the member naming it bare
        keyed: dict[str, int] = {}  # name → position of the first member naming it `ns/name`
        for i, member in enumerate(self.members):
            earlier = exact.setdefault(member, i)
            if earlier != i:
                return earlier, i
            _, slash, name = member.partition("/")
            if slash:
                earlier = bare.get(name, i)
                keyed.setdefault(name, i)
            else:
                earlier = keyed.get(member, i)
                bare.setdefault(member, i)
            if earlier != i:
                return earlier, i
        return None

    def repeated_text(self, first: int, again: int) -> str:
        """How members `first` and `again` (`repeated_member`) name one agent, for a message."""
        earlier, later = self.members[first], self.members[again]
        if earlier == later:
            return f"names agent {later!r} twice"
        return (
            f"names agent {later.rpartition('/')[2]!r} twice, as {earlier!r} and {later!r} (a bare name is that "
            "agent in every namespace)"
        )


class TrustEdge(Frozen):
    """Caller may call callee. Refs are agent names, `group:<name>` or `channel:<name>`.

    `capabilities` empty means every capability of the callee.
    """

    caller: str
    callee: str
    capabilities: tuple[str, ...] = ()
    protocol: str = ""
    description: str = ""

    @property
    def key(self) -> str:
        caps = ",".join(self.capabilities)
        return f"{self.caller}->{self.callee}" + (f"[{caps}]" if caps else "")


class RoutingTest(Frozen):
    """A regression test kept in the design: this query in this channel goes to this agent.

    An empty `expect_agent` expects no match: no agent of the channel should answer. `min_score` holds this test
    to its own "no agent fits" threshold, by the fit rule only (as `route --min-score` and the Playground's
    per-query min score, where such a test is added); None: the channel's threshold.
    """

    query: str
    expect_agent: str = ""
    channel: str = ""  # a Channel's name; empty = route over all agents
    expect_capability: str = ""
    name: str = ""
    min_score: float | None = Field(default=None, ge=0.0, le=1.0)

    @field_validator("min_score", mode="before")
    @classmethod
    def _not_a_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):  # YAML `true` would be read as 1.0
            raise ValueError("minScore is a number from 0 to 1, not true/false")
        return value

    @model_validator(mode="after")
    def _capability_needs_agent(self) -> RoutingTest:
        if self.expect_capability.strip() and not self.expect_agent.strip():  # it could never pass
            raise ValueError(
                "expectCapability without expectAgent: a test that expects no agent names no capability; name the "
                "agent too, or clear the capability"
            )
        return self


LexiconSetting = Literal["auto", "customer-service", "none"]
_ROUTED_WORD = re.compile(r"[a-z0-9]+")  # what the offline routers' tokenizer keeps (routing/text.py `_WORD`)
MAX_OUT_OF_SCOPE = 2000  # out-of-scope examples per design (each one is embedded when a channel is fitted)
MAX_OUT_OF_SCOPE_CHARS = 500


def message_key(text: str) -> str:
    """A message as a listed out-of-scope message is matched, spacing and case aside: by the routers (a listed
    message is answered "no agent" when it comes again), the out-of-scope list's edits and lint."""
    return " ".join(text.split()).casefold()


class OutOfScopeExample(Frozen):
    """A message no agent of a channel should answer (StudioDesign `spec.routing.outOfScope[]`): the embedding
    router keeps it in the channel's "nearer elsewhere" background (routing/threshold.py). Written as a plain
    string, or as `{text, channel}`; `channel` is a Channel's name or key, empty for every channel."""

    text: str
    channel: str = ""

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @field_validator("text")
    @classmethod
    def _text(cls, text: str) -> str:
        text = " ".join(text.split())
        if not text:
            raise ValueError("an out-of-scope example must not be empty")
        if len(text) > MAX_OUT_OF_SCOPE_CHARS:
            raise ValueError(f"an out-of-scope example is at most {MAX_OUT_OF_SCOPE_CHARS} characters")
        return text


class RoutingSettings(Frozen):
    """How the design's channels route (StudioDesign `spec.routing`): the "no agent fits" threshold, the
    design's own synonym groups, which teach the offline routers a team's words without code, and whether the
    offline routers use the built-in customer-service lexicon (`auto`: per channel, where its own examples show
    it helps; see routing/lexicon.py)."""

    min_score: float | None = Field(default=None, ge=0.0, le=1.0)  # None: each router's default
    lexicon: LexiconSetting = "auto"  # the built-in customer-service lexicon: auto, customer-service or none
    vocabulary: tuple[tuple[str, ...], ...] = ()  # synonym groups, e.g. [["laptop", "notebook"], …]
    out_of_scope: tuple[OutOfScopeExample, ...] = ()  # messages no agent should answer (per channel or all)

    @field_validator("out_of_scope")
    @classmethod
    def _few_enough(cls, examples: tuple[OutOfScopeExample, ...]) -> tuple[OutOfScopeExample, ...]:
        if len(examples) > MAX_OUT_OF_SCOPE:
            raise ValueError(f"at most {MAX_OUT_OF_SCOPE} out-of-scope examples, not {len(examples)}")
        return examples

    def out_of_scope_for(self, *channels: str) -> tuple[str, ...]:
        """The out-of-scope texts of a channel (given by name and key); no names: every example."""
        names = set(channels)
        return tuple(e.text for e in self.out_of_scope if not names or not e.channel or e.channel in names)

    @field_validator("min_score", mode="before")
    @classmethod
    def _not_a_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):  # YAML `true`/`yes` would be read as 1.0 (`--min-score` refuses it too)
            raise ValueError("minScore is a number from 0 to 1, not true/false")
        return value

    @field_validator("vocabulary", mode="before")
    @classmethod
    def _group_shape(cls, groups: Any) -> Any:
        """Lists of strings, said in words ("Input should be a valid tuple" told no one what to write)."""
        if not isinstance(groups, list | tuple):
            raise ValueError(f"vocabulary is a list of synonym groups, e.g. [[laptop, notebook]], not {groups!r:.60}")
        for index, group in enumerate(groups):
            if not isinstance(group, list | tuple):
                raise ValueError(
                    f"group {index} must be a list of words or phrases, e.g. [laptop, notebook], not {group!r:.60}"
                )
            for odd in (w for w in group if not isinstance(w, str)):  # a number, a bool, null, a mapping
                raise ValueError(f"group {index}: {odd!r:.60} is not a word or phrase; quote it ('{odd}')")
        return groups

    @field_validator("vocabulary")
    @classmethod
    def _groups(cls, groups: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        cleaned = []
        for index, group in enumerate(groups):
            words = tuple(" ".join(w.split()).lower() for w in group)
            if len(words) < 2 or not all(words):
                raise ValueError(
                    f"group {index} must list at least two non-empty words or phrases, e.g. [laptop, notebook]"
                )
            if len(set(words)) < 2:  # [laptop, Laptop] is one word: the group would teach nothing
                raise ValueError(f"group {index} must list at least two different words or phrases")
            if unread := next((w for w in words if not _ROUTED_WORD.search(w)), None):
                raise ValueError(
                    f"group {index}: {unread!r} has no letter a-z or digit; the offline routers read only those"
                )
            if any(len(w.split()) > 2 for w in words):
                raise ValueError(f"group {index}: entries are words or two-word phrases")
            if ignored := next((w for w in words if _ROUTED_WORD.findall(w) == [w] and w in STOP_WORDS), None):
                raise ValueError(  # the offline routers drop it before the lexicon sees it: it would never match
                    f"group {index}: {ignored!r} is a word the offline routers ignore (like 'the', 'help', "
                    f"'service'); write a phrase that holds it, e.g. '{ignored} desk', or leave it out"
                )
            cleaned.append(words)
        return tuple(cleaned)


class Design(Frozen):
    """Everything a user designs: LMOS resources plus Studio-only groups, trust, tests and layout."""

    name: str = "design"
    description: str = ""
    agents: tuple[Agent, ...] = ()
    channels: tuple[Channel, ...] = ()
    rollouts: tuple[ChannelRollout, ...] = ()
    groups: tuple[Group, ...] = ()
    trust_edges: tuple[TrustEdge, ...] = ()
    routing_tests: tuple[RoutingTest, ...] = ()
    routing: RoutingSettings = RoutingSettings()
    layout: dict[str, Any] = Field(default_factory=dict)
    other_resources: tuple[dict[str, Any], ...] = ()  # documents of kinds we do not model, kept verbatim
    studio_extras: dict[str, Any] = Field(default_factory=dict)  # unknown keys of the Studio document

    def agent(self, name: str, namespace: str | None = None) -> Agent | None:
        for agent in self.agents:
            if agent.name == name and (namespace is None or agent.namespace == namespace):
                return agent
        return None

    def channel(self, name: str, namespace: str | None = None) -> Channel | None:
        for channel in self.channels:
            if channel.name == name and (namespace is None or channel.namespace == namespace):
                return channel
        return None

    def channels_named(self, ref: str) -> list[Channel]:
        """The Channels a reference names, by the first rule that finds any: its key (`namespace/name`), its
        name (where several namespaces share it, the one in the default namespace if any), its channel label.
        One Channel: found; several: ambiguous; none: unknown (the caller says which, and what there is)."""
        by_key = [c for c in self.channels if c.key == ref]
        if by_key:
            return by_key
        by_name = [c for c in self.channels if c.name == ref]
        if len(by_name) > 1:
            by_name = [c for c in by_name if c.namespace == DEFAULT_NAMESPACE] or by_name
        return by_name or [c for c in self.channels if c.channel == ref]

    def group(self, name: str) -> Group | None:
        return next((g for g in self.groups if g.name == name), None)

    @property
    def tenants(self) -> tuple[str, ...]:
        names = {t for a in self.agents for t in a.supported_tenants}
        names |= {c.tenant for c in self.channels if c.tenant}
        return tuple(sorted(names))

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(sorted({a.namespace for a in self.agents} | {c.namespace for c in self.channels}))

    @cached_property
    def digest_cached(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode("utf-8")).hexdigest()

    def digest(self) -> str:
        """A content hash (cache keys for routers and views): equal digests mean equal designs, and a design
        that is not read from files has the hash of its JSON, so equal designs have equal digests. A design read
        through the disk cache's `load_design_cached` has the hash of its files' key instead (no JSON dump of a
        large design): the same content made another way has another digest, a cache miss, never a wrong hit.

        Computed once per (immutable) design object.
        """
        return self.digest_cached

    def keep_digest(self, digest: str) -> None:
        """Keep `digest` as this design's (`digest`): one computed from the bytes it was read from, not by
        dumping it again."""
        self.__dict__["digest_cached"] = digest

    def json_bytes(self) -> bytes:
        """The JSON `digest` hashes (`model_dump_json()` as UTF-8, made as bytes: no 20 MB str decoded and
        encoded again); a digest not kept yet is kept from it (so the disk cache and the digest dump once)."""
        data = self.__pydantic_serializer__.to_json(self)
        if "digest_cached" not in self.__dict__:  # a design read from files has its digest: 20 MB not hashed again
            self.__dict__["digest_cached"] = hashlib.sha256(data).hexdigest()
        return data

    @classmethod
    def from_json_bytes(cls, data: bytes) -> Design:
        """The design of `json_bytes` (validated like any input), its digest kept from those bytes."""
        design = cls.model_validate_json(data)
        design.keep_digest(hashlib.sha256(data).hexdigest())
        return design

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Design:
        """A copy; the cached digest is not carried over (the copy's content may differ)."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("digest_cached", None)
        return copy

    def replace(self, **changes: Any) -> Design:
        """A copy with some fields replaced (the model is frozen)."""
        return self.model_copy(update=changes)

    def with_agent(self, agent: Agent) -> Design:
        """Add an agent or replace the one with the same namespace and name."""
        agents = [a for a in self.agents if a.key != agent.key]
        index = next((i for i, a in enumerate(self.agents) if a.key == agent.key), len(agents))
        agents.insert(index, agent)
        return self.replace(agents=tuple(agents))
