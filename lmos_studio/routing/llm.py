"""The LLM router: asks any OpenAI-compatible chat endpoint which agent (and capability) of a table answers.

The prompt lists the table's agents and capabilities (as lmos-router's agent list does); the reply must be
one JSON object `{"agent", "capability", "confidence", "reason"}` and is parsed strictly: anything else,
an unknown agent or capability, or a refusal is an `LlmReplyError` quoting the reply's start. `"agent": null`
is the model's "no agent fits"; its `fit` is the model's confidence, held to the design's `minScore` if set.
Time-outs are bounded; 429 and 5xx answers are retried with back-off by the `openai` client.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import openai

from lmos_studio.config import get_settings
from lmos_studio.errors import DesignFileError, LlmReplyError, RouterUnavailable
from lmos_studio.formats import jsonio
from lmos_studio.model import message_key
from lmos_studio.routing.base import Match, RouteResult, RoutingTable, listed_texts

MAX_RETRIES = 2  # the openai client retries 429 / 5xx / connection errors with exponential back-off
MAX_TOKENS = 200  # the reply is one small JSON object (lmos-router uses 200 as well)
PROMPT_EXAMPLES = 3  # example utterances per capability shown to the model (few-shot, bounded prompt size)
REPLY_QUOTE_CHARS = 120  # how much of a bad reply an error quotes

# USD per million tokens (input, output): public list prices of OpenAI models, mid-2025. An estimate only;
# a model not listed (local or other vendors) has no cost estimate (None).
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-3.5-turbo": (0.50, 1.50),
}

INSTRUCTIONS = """You route customer messages to the one agent that can answer them.
The agents and their capabilities are listed below as JSON. Pick the agent and the capability that fit
the user's message best. Answer with one JSON object and nothing else:
{"agent": "<agent name from the list>", "capability": "<capability name of that agent>",
 "confidence": <number from 0 to 1>, "reason": "<a few words>"}
If no agent fits (a greeting, an unrelated or ambiguous message), answer {"agent": null, "reason": "..."}.

Agents:
"""


def estimated_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """USD for one call by `PRICES_PER_MTOK` (longest model-name prefix: dated snapshots match); else None."""
    known = [name for name in PRICES_PER_MTOK if model == name or model.startswith(name + "-")]
    if not known:
        return None
    price_in, price_out = PRICES_PER_MTOK[max(known, key=len)]
    return round((prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000, 8)


def agents_json(table: RoutingTable, agents: Sequence[str] | None = None) -> str:
    """The agent list of the prompt: name, description and capabilities (name, description, a few
    examples) per agent."""
    listed: dict[str, dict[str, Any]] = {}
    for c in table.candidates:
        if agents is not None and c.agent not in agents:
            continue
        entry = listed.setdefault(c.agent, {"name": c.agent, "description": c.agent_description, "capabilities": []})
        capability: dict[str, Any] = {"name": c.capability, "description": c.description}
        if c.examples:
            capability["examples"] = list(c.examples[:PROMPT_EXAMPLES])
        entry["capabilities"].append(capability)
    return json.dumps(list(listed.values()), indent=1, ensure_ascii=False)


_FENCE = re.compile(r"^\s*(?:<answer>)?\s*```(?:json)?\s*(.*?)\s*```\s*(?:</answer>)?\s*$", re.S)


def parse_reply(reply: str | None, table: RoutingTable, *, agents: Sequence[str] | None = None) -> Match | None:
    """The match a reply names, None when the model says no agent fits (`"agent": null`); `LlmReplyError`
    for anything but a known agent (+ its capability) or null."""
    quoted = repr((reply or "")[:REPLY_QUOTE_CHARS])
    if not reply or not reply.strip():
        raise LlmReplyError("the model answered with an empty reply", router="llm")
    fenced = _FENCE.match(reply)
    try:
        answer = jsonio.loads(fenced.group(1) if fenced else reply, source="the model's reply")
    except DesignFileError as exc:
        raise LlmReplyError(f"the model's reply is not JSON: {quoted} ({exc.reason})", router="llm") from exc
    if not isinstance(answer, dict):
        raise LlmReplyError(f"the model's reply is not a JSON object: {quoted}", router="llm")
    agent = answer.get("agent", answer.get("agentName"))  # lmos-router's key is accepted as well
    if agent is None and ("agent" in answer or "agentName" in answer):
        return None  # the model says no agent fits: an answer, not an error
    if agent is None:
        raise LlmReplyError(f"the model's reply names no agent: {quoted}", router="llm")
    allowed = [c for c in table.candidates if agents is None or c.agent in agents]
    if not isinstance(agent, str) or agent not in {c.agent for c in allowed}:
        raise LlmReplyError(f"the model named an unknown agent {agent!r}: {quoted}", router="llm")
    capabilities = [c.capability for c in allowed if c.agent == agent]
    capability = answer.get("capability") or (capabilities[0] if len(capabilities) == 1 else "")
    if capability and capability not in capabilities:
        raise LlmReplyError(
            f"the model named capability {capability!r}, which {agent} does not provide: {quoted}", router="llm"
        )
    confidence = answer.get("confidence", 1.0)
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        confidence = 1.0  # an odd confidence is not worth failing the answer for
    reason = answer.get("reason")
    evidence = (f"model: {str(reason)[:200]}",) if reason else ()
    return Match(agent=agent, capability=capability, score=float(confidence), evidence=evidence)


@dataclass
class FittedLlm:
    """The LLM router for one table (holds the client; nothing is learned)."""

    table: RoutingTable
    client: openai.OpenAI
    model: str
    secret: str = field(repr=False)  # the API key, only to redact it from error messages (never shown)
    name: str = "llm"

    def messages(self, query: str, agents: Sequence[str] | None = None) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": INSTRUCTIONS + agents_json(self.table, agents)},
            {"role": "user", "content": query},
        ]

    def route(self, query: str, *, top_k: int = 5, among: Sequence[str] | None = None) -> RouteResult:
        """Ask the model; `among` restricts the prompt to those agents (the hybrid router's shortlist)."""
        start = time.perf_counter()
        if not query.strip() or not self.table.candidates:
            return RouteResult(router=self.name, matches=())
        if message_key(query) in listed_texts(self.table.out_of_scope):  # the design's answer: no model call
            return RouteResult(router=self.name, matches=(), fit=0.0, threshold=self.table.min_score, listed=True)
        completion = self._complete(self.messages(query, among))
        choice = completion.choices[0] if completion.choices else None
        refusal = getattr(choice.message, "refusal", None) if choice else None
        if refusal:
            raise LlmReplyError(f"the model refused: {refusal[:REPLY_QUOTE_CHARS]!r}", router=self.name)
        match = parse_reply(choice.message.content if choice else None, self.table, agents=among)
        usage = self._usage(completion)
        return RouteResult(
            router=self.name,
            matches=(match,) if match else (),
            latency_ms=(time.perf_counter() - start) * 1000,
            usage=usage,
            fit=match.score if match else 0.0,  # the model's confidence
            threshold=self.table.min_score,
            declined=match is None,  # a null agent: the model says no agent fits
        )

    def _usage(self, completion: Any) -> dict[str, Any]:
        used = completion.usage
        prompt, output = (used.prompt_tokens, used.completion_tokens) if used else (0, 0)
        model = completion.model or self.model
        return {
            "model": model,
            "prompt_tokens": prompt,
            "completion_tokens": output,
            "total_tokens": prompt + output,
            "cost_usd": estimated_cost(model, prompt, output),
        }

    def _complete(self, messages: list[dict[str, str]]) -> Any:
        url = str(self.client.base_url)
        try:
            return self.client.chat.completions.create(  # type: ignore[call-overload]
                model=self.model,
                messages=messages,
                temperature=0,
                max_tokens=MAX_TOKENS,
                response_format={"type": "json_object"},
            )
        except openai.APITimeoutError as exc:
            raise RouterUnavailable(
                f"LLM endpoint {url} did not answer within {self.client.timeout} s "
                f"({self.client.max_retries + 1} tries); raise LMOS_STUDIO_LLM_TIMEOUT_S or try later",
                router=self.name,
            ) from exc
        except openai.APIConnectionError as exc:
            raise RouterUnavailable(
                f"cannot reach the LLM endpoint {url}; check LMOS_STUDIO_LLM_BASE_URL", router=self.name
            ) from exc
        except openai.AuthenticationError as exc:
            raise RouterUnavailable(
                f"LLM endpoint {url} refused the API key (HTTP 401); check LMOS_STUDIO_LLM_API_KEY", router=self.name
            ) from exc
        except openai.APIStatusError as exc:
            detail = self._redact(exc.response.text[:REPLY_QUOTE_CHARS])
            tries = self.client.max_retries + 1
            raise RouterUnavailable(
                f"LLM endpoint {url} answered HTTP {exc.status_code} after {tries} tries: "
                f"{detail!r}; check LMOS_STUDIO_LLM_MODEL ({self.model})",
                router=self.name,
            ) from exc

    def _redact(self, text: str) -> str:
        return text.replace(self.secret, "***") if self.secret else text


class LlmRouter:
    """Any OpenAI-compatible chat endpoint; base URL, model, key and timeout come from the settings."""

    name = "llm"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        timeout_s: float | None = None,
        max_retries: int = MAX_RETRIES,
    ) -> None:
        settings = get_settings()
        self.base_url = base_url or settings.llm_base_url
        self.model = model or settings.llm_model
        secret = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        self.api_key = api_key or secret
        self.timeout_s = timeout_s or settings.llm_timeout_s
        self.max_retries = max_retries

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedLlm:
        """Seed rows are not used: the model sees only the agents and capabilities (as in lmos-router)."""
        if not self.base_url and not self.api_key:
            raise RouterUnavailable(
                "the LLM router needs an endpoint: set LMOS_STUDIO_LLM_BASE_URL (any "
                "OpenAI-compatible server) and/or LMOS_STUDIO_LLM_API_KEY",
                router=self.name,
            )
        client = openai.OpenAI(
            base_url=self.base_url,
            api_key=self.api_key or "not-needed",
            timeout=self.timeout_s,
            max_retries=self.max_retries,
        )
        return FittedLlm(table=table, client=client, model=self.model, secret=self.api_key or "")
