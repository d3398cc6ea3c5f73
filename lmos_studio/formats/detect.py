"""Read agent descriptions of any supported format (detected or named) and write them in another.

Formats (`FORMATS`): `agent` (LMOS `Agent` resources, YAML/JSON, multi-document or a `List`), `td`
(LMOS WoT Thing Description), `a2a` (A2A Agent Card: written in the version it was read
in, else v1.0; `a2a-1.0` / `a2a-0.3` choose), `capabilities`
(the operator's capabilities.json), `routing-spec` (lmos-router AgentRoutingSpec list), `classifier`
(the classifier's capability document). Every agent read from a non-LMOS format has `source`,
`original_format` and `original` (the document verbatim) set; an LMOS `Agent` resource is the model
itself (unknown keys in its extras), so its `original_format` stays "".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import a2a, budgets, capabilities_doc, lmos, routing_spec, td, yamlio
from lmos_studio.formats import description as d
from lmos_studio.formats.yamltypes import kind_of
from lmos_studio.model import Agent
from lmos_studio.sizes import size_and_limit

FORMATS = ("agent", "td", "a2a", "a2a-1.0", "a2a-0.3", "capabilities", "routing-spec", "classifier")
READ_FORMATS = ("auto", "agent", "td", "a2a", "capabilities", "routing-spec", "classifier")
_EXPECTED = (
    "an LMOS Agent resource, a WoT Thing Description, an A2A Agent Card, a capabilities document, "
    "an AgentRoutingSpec list or a classifier capability document"
)


def detect_format(doc: Any) -> str | None:
    """The format of one parsed document, or None. A list is `routing-spec` when its items look like specs."""
    if isinstance(doc, list):
        return "routing-spec" if routing_spec.looks_like_specs(doc) else None
    if not isinstance(doc, dict):
        return None
    if doc.get("apiVersion") == lmos.API_VERSION and doc.get("kind") == "Agent":
        return "agent"
    if td.is_td(doc):
        return "td"
    if a2a.is_card(doc):
        return "a2a"
    if routing_spec.is_classifier_document(doc):
        return "classifier"
    if capabilities_doc.is_capabilities_document(doc):
        return "capabilities"
    if "addresses" in doc and "name" in doc:
        return "routing-spec"
    return None


def read_descriptions(data: bytes | str | dict[str, Any] | list[Any], *, source: str, fmt: str = "auto") -> list[Agent]:
    """Every agent described by `data` (bytes/text of JSON or YAML, or parsed JSON).

    `fmt` "auto" detects the format per document. Problems are `DesignFileError`s naming `source`,
    the line when known and the field path.
    """
    if fmt not in READ_FORMATS:
        raise DesignFileError(f"unknown format {fmt!r}; use one of {', '.join(READ_FORMATS)}", path=source)
    if not isinstance(data, bytes | str):
        d.check_depth(data, source=source)
        return _read_all([data], source=source, fmt=fmt)
    text = d.decode(data, source=source)
    if not d.is_json(text):
        return _read_all(d.parse_documents(text, source=source), source=source, fmt=fmt)
    try:  # fast path: plain JSON; only a problem is worth the re-read that finds its line
        return _read_all(d.parse_documents(text, source=source, lines=False), source=source, fmt=fmt)
    except DesignFileError as exc:
        if exc.line is not None:
            raise
        _read_all(d.parse_documents(text, source=source), source=source, fmt=fmt)
        raise  # the re-read found no problem (YAML reads this JSON differently): the first error stands


def _read_all(docs: list[Any], *, source: str, fmt: str) -> list[Agent]:
    agents: list[Agent] = []
    for doc in docs:  # messages carry the line of each document, so `source` stays the file
        found = _read_document(doc, source=source, fmt=fmt)
        for agent in found:
            budgets.check_agent(agent, source=source, line=d.line_of(doc))
        agents += found
    if not agents:
        raise DesignFileError(f"describes no agent; expected {_EXPECTED}", path=source)
    return agents


def _read_document(doc: Any, *, source: str, fmt: str) -> list[Agent]:
    is_list = isinstance(doc, dict) and doc.get("kind") in ("List", "AgentList")
    if is_list and isinstance(doc.get("items"), list):
        return [a for item in doc["items"] for a in _read_document(item, source=source, fmt=fmt)]
    if isinstance(doc, list):
        if fmt == "routing-spec" or (fmt == "auto" and routing_spec.looks_like_specs(doc)):
            return routing_spec.specs_to_agents(doc, source=source)
        if fmt == "auto" and routing_spec.is_seed(doc):
            raise DesignFileError(
                "is a vector-router seed file ([{text, agentName}]: example utterances), not agent descriptions; "
                "use it as seed examples (`lmos-studio eval DESIGN QUERIES --seed FILE`, or the Evaluate page's "
                "Seed examples upload)",
                path=source,
                line=d.line_of(doc[0]),
            )
        return [a for item in doc for a in _read_document(item, source=source, fmt=fmt)]
    found = detect_format(doc) if fmt == "auto" else fmt
    if found is None:
        if isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc:
            return []  # a Channel, StudioDesign, Deployment… next to the Agents: not a description
        raise DesignFileError(
            f"is not a known agent description (found: {_what(doc)}); expected {_EXPECTED}",
            path=source,
            line=d.line_of(doc),
        )
    return _read_as(doc, found, source=source)


def _what(doc: Any) -> str:
    """A document that is no description, in words: its first keys, or what kind of value it is (the
    reader's own types, such as YamlInt, mean nothing to the person who wrote the file)."""
    if isinstance(doc, dict):
        return "keys " + ", ".join(str(k) for k in list(doc)[:8]) if doc else "an empty object"
    return kind_of(doc)


def _read_as(doc: Any, fmt: str, *, source: str) -> list[Agent]:
    if fmt == "agent":
        if not isinstance(doc, dict) or doc.get("kind") != "Agent":
            raise DesignFileError(
                "is not an LMOS Agent resource (apiVersion lmos.eclipse/v1, kind Agent)",
                path=source,
                line=d.line_of(doc),
                field="kind",
            )
        return [lmos.agent_from_resource(doc, path=source, source=source)]
    if fmt == "td":
        return [td.td_to_agent(doc, source=source)]
    if fmt == "a2a":
        return [a2a.card_to_agent(doc, source=source)]
    if fmt == "capabilities":
        return [capabilities_doc.document_to_agent(doc, source=source)]
    if fmt == "classifier":
        return routing_spec.classifier_to_agents(doc, source=source)
    if isinstance(doc, dict):
        return [routing_spec.spec_to_agent(doc, source=source)]
    return routing_spec.specs_to_agents(doc, source=source)


def read_description_file(path: str | Path, *, fmt: str = "auto") -> list[Agent]:
    """Every agent described by a file (see `read_descriptions`); size and encoding are checked first."""
    file = Path(path)
    try:
        size = yamlio.file_size(file)
        if size > d.MAX_DESCRIPTION_BYTES:
            shown, limit = size_and_limit(size, d.MAX_DESCRIPTION_BYTES)
            raise DesignFileError(
                f"{shown} is more than the {limit} limit for a description",
                path=str(file),
            )
        data = file.read_bytes()
    except OSError as exc:
        raise DesignFileError(f"cannot read: {exc.strerror}", path=str(file)) from exc
    return read_descriptions(data, source=str(file), fmt=fmt)


def write_description(agent: Agent, fmt: str) -> dict[str, Any] | list[Any]:
    """The agent in format `fmt` (one of FORMATS) as JSON-compatible data; `routing-spec` is a list of one."""
    if fmt == "agent":
        return d.plain(lmos.agent_to_resource(agent, explicit_namespace=True))  # type: ignore[no-any-return]
    if fmt == "td":  # a description of another format rides along (`lmos:original`): converted back, it is whole
        return td.agent_to_td(agent, embed_original=True)
    if fmt == "a2a":
        same = agent.original_format == "a2a" and bool(agent.original)
        return a2a.agent_to_card(agent, a2a.card_version(agent.original) if same else "1.0")
    if fmt == "a2a-1.0":
        return a2a.agent_to_card(agent, "1.0")
    if fmt == "a2a-0.3":
        return a2a.agent_to_card(agent, "0.3")
    if fmt == "capabilities":
        return capabilities_doc.agent_to_document(agent)
    if fmt == "routing-spec":
        return [routing_spec.agent_to_spec(agent)]
    if fmt == "classifier":
        return routing_spec.agents_to_classifier([agent])
    raise DesignFileError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def write_descriptions(agents: list[Agent], fmt: str) -> list[Any] | dict[str, Any]:
    """Several agents in one format: a list (one document per agent), except `routing-spec` (one list of
    specs) and `classifier` (one document with a capability group per agent)."""
    if fmt == "routing-spec":
        return routing_spec.agents_to_specs(agents)
    if fmt == "classifier":
        return routing_spec.agents_to_classifier(agents)
    return [write_description(a, fmt) for a in agents]


def description_text(data: Any, *, output: str = "json") -> str:
    """Written description data as text: pretty JSON, or YAML (several documents for a list of resources)."""
    if output == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if output == "yaml":
        return yamlio.dump(data)
    raise DesignFileError(f"unknown output {output!r}; use json or yaml")
