"""LLM, hybrid and HTTP-embedding routers against a real OpenAI-compatible stub server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest

from lmos_studio.errors import LlmReplyError, RoutingError
from lmos_studio.routing.base import Candidate, RoutingTable
from lmos_studio.routing.embedding import EmbeddingRouter, HttpEmbedder
from lmos_studio.routing.hybrid import HybridRouter, calibrate_threshold
from lmos_studio.routing.llm import LlmRouter, estimated_cost, parse_reply
from lmos_studio.routing.statistical import StatisticalRouter
from tests.openai_stub import Reply, StubServer, keyword_chat

TABLE = RoutingTable(
    channel="web",
    candidates=(
        Candidate(
            "billing-agent", "view-bill", "Show a bill", ("show my bill", "how much do I owe"), "Bills and invoices"
        ),
        Candidate(
            "billing-agent", "download-bill", "Download a bill as PDF", ("download my invoice",), "Bills and invoices"
        ),
        Candidate("contract-agent", "view-contract", "Show the contract", ("show my contract",), "Contracts"),
    ),
)
SECRET = "sk-test-secret-123"


def answer(agent: str | None, capability: str = "", **extra: object) -> Reply:
    return Reply(json.dumps({"agent": agent, "capability": capability, **extra}))


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer([answer("billing-agent", "view-bill", confidence=0.9, reason="asks for a bill")])
    server.start()
    yield server
    server.stop()


def llm(server: StubServer, **kwargs: object) -> LlmRouter:
    return LlmRouter(base_url=server.base_url, model="gpt-4o-mini", api_key=SECRET, **kwargs)  # type: ignore[arg-type]


def scripted(*replies: Reply) -> StubServer:
    return StubServer(list(replies)).start()


def test_good_answer_with_usage_and_cost(stub: StubServer) -> None:
    result = llm(stub).fit(TABLE).route("what is my bill?")
    assert result.router == "llm"
    assert result.best is not None
    assert (result.best.agent, result.best.capability, result.best.score) == ("billing-agent", "view-bill", 0.9)
    assert result.best.evidence == ("model: asks for a bill",)
    assert result.usage["prompt_tokens"] == 100 and result.usage["completion_tokens"] == 12
    assert result.usage["cost_usd"] == pytest.approx((100 * 0.15 + 12 * 0.60) / 1e6)
    request = stub.requests[0]
    assert request["response_format"] == {"type": "json_object"} and request["temperature"] == 0
    prompt = request["messages"][0]["content"]
    assert "contract-agent" in prompt and "download-bill" in prompt
    assert stub.headers[0]["authorization"] == f"Bearer {SECRET}"


def test_prompt_can_be_restricted_to_a_shortlist(stub: StubServer) -> None:
    llm(stub).fit(TABLE).route("bill", among=["billing-agent"])
    assert "contract-agent" not in stub.requests[0]["messages"][0]["content"]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply("this is not json"), "not JSON: 'this is not json'"),
        (Reply('["billing-agent"]'), "not a JSON object"),
        (answer("sales-agent", "sell"), "unknown agent 'sales-agent'"),
        (answer("billing-agent", "cancel-contract"), "capability 'cancel-contract'"),
        (Reply('{"capability": "view-bill"}'), "names no agent"),
        (Reply(""), "empty reply"),
        (Reply(None, refusal="I cannot help with that"), "refused: 'I cannot help with that'"),
    ],
)
def test_bad_replies_are_llm_reply_errors(reply: Reply, message: str) -> None:
    server = scripted(reply)
    try:
        with pytest.raises(LlmReplyError, match=message):
            llm(server).fit(TABLE).route("hello")
    finally:
        server.stop()


def test_a_null_agent_is_the_models_no_agent_fits() -> None:
    server = scripted(answer(None, reason="just a greeting"))
    try:
        result = llm(server).fit(TABLE).route("hello")
        assert result.no_match and result.best is None and result.matches == ()
        assert result.usage["total_tokens"] > 0
        # said as the model's answer, not as an empty channel ("the channel has no candidates" before)
        assert result.rejected_by == "declined" and "LLM answered that no agent" in result.reason
        assert result.with_threshold(0.0).rejected_by == "declined"  # a per-call threshold does not undo it
    finally:
        server.stop()


def test_reply_in_a_code_fence_and_lmos_router_key_are_accepted() -> None:
    match = parse_reply('<answer>```json\n{"agentName": "contract-agent"}\n```</answer>', TABLE)
    assert (match.agent, match.capability) == ("contract-agent", "view-contract")


def test_429_then_success_is_retried() -> None:
    server = scripted(Reply(status=429), answer("contract-agent", "view-contract"))
    try:
        best = llm(server).fit(TABLE).route("my contract").best
        assert best is not None and best.agent == "contract-agent"
        assert len(server.requests) == 2
    finally:
        server.stop()


def test_persistent_5xx_is_a_routing_error_without_the_key() -> None:
    server = scripted(Reply(status=503, raw_body=json.dumps({"error": f"overloaded, key {SECRET}"})))
    try:
        with pytest.raises(RoutingError, match="HTTP 503 after 2 tries") as caught:
            llm(server, max_retries=1).fit(TABLE).route("my contract")
        assert SECRET not in str(caught.value)
        assert len(server.requests) == 2
    finally:
        server.stop()


def test_timeout_is_bounded() -> None:
    server = scripted(Reply(answer("contract-agent").content, delay_s=2.0))
    try:
        with pytest.raises(RoutingError, match="did not answer within"):
            llm(server, timeout_s=0.2, max_retries=0).fit(TABLE).route("my contract")
    finally:
        server.stop()


def test_unconfigured_llm_router_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from lmos_studio.config import get_settings

    for name in ("LMOS_STUDIO_LLM_BASE_URL", "OPENAI_BASE_URL", "LMOS_STUDIO_LLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(RoutingError, match="LMOS_STUDIO_LLM_BASE_URL"):
            LlmRouter().fit(TABLE)
    finally:
        get_settings.cache_clear()


def test_key_never_in_the_fitted_router_repr(stub: StubServer) -> None:
    assert SECRET not in repr(llm(stub).fit(TABLE))


def test_estimated_cost_per_model() -> None:
    assert estimated_cost("gpt-4o-mini-2024-07-18", 1_000_000, 0) == pytest.approx(0.15)
    assert estimated_cost("gpt-4o", 0, 1_000_000) == pytest.approx(10.0)
    assert estimated_cost("llama3:8b", 1000, 1000) is None


def test_hybrid_fast_track_and_llm_track() -> None:
    server = StubServer(keyword_chat(TABLE)).start()
    try:
        fast_only = HybridRouter(fast=StatisticalRouter(), llm=llm(server), threshold=0.0).fit(TABLE)
        result = fast_only.route("show my bill")
        assert result.usage["track"] == "fast" and not server.requests
        always_llm = fast_only.with_threshold(1.01)
        result = always_llm.route("please download the invoice pdf")
        assert result.usage["track"] == "llm" and result.usage["total_tokens"] == 112
        assert result.best is not None and result.best.agent == "billing-agent"
        assert "decided by the LLM" in result.best.evidence[0]
        assert "contract-agent" in server.requests[0]["messages"][0]["content"]  # the shortlist (top 3)
    finally:
        server.stop()


def test_hybrid_keeps_the_fast_answer_when_the_llm_reply_is_unusable() -> None:
    server = scripted(Reply("nonsense"))
    try:
        hybrid = HybridRouter(fast=StatisticalRouter(), llm=llm(server), threshold=1.01).fit(TABLE)
        result = hybrid.route("show my contract")
        assert result.usage["track"] == "fast (LLM failed)"
        assert result.best is not None and result.best.agent == "contract-agent"
    finally:
        server.stop()


def test_calibrated_threshold_keeps_fast_track_precision() -> None:
    fast = StatisticalRouter().fit(TABLE)
    labelled = [
        ("show my bill please", "billing-agent"),
        ("download my invoice now", "billing-agent"),
        ("show my contract please", "contract-agent"),
        ("bill contract", "contract-agent"),
    ]
    calibration = calibrate_threshold(fast, labelled, target_precision=1.0)
    scores = {q: fast.route(q).best.score for q, _ in labelled}  # type: ignore[union-attr]
    wrong = scores["bill contract"] if fast.route("bill contract").best.agent != "contract-agent" else 0  # type: ignore[union-attr]
    assert calibration.precision == 1.0
    assert calibration.threshold > wrong
    assert 0 < calibration.coverage <= 1
    assert calibrate_threshold(fast, [("show my bill", "contract-agent")]).threshold == 1.0


def test_http_embedder_routes_with_neighbours() -> None:
    server = StubServer([]).start()
    try:
        embedder = HttpEmbedder(server.base_url, "text-embedding-3-small", api_key=SECRET)
        result = EmbeddingRouter(embedder=embedder).fit(TABLE).route("show me my contract")
        assert result.router == "embedding" and result.usage["embedder"] == "text-embedding-3-small"
        assert result.best is not None and result.best.agent == "contract-agent"
        assert any(e.startswith("neighbour:") for e in result.best.evidence)
    finally:
        server.stop()


def test_http_embedder_errors_name_the_url() -> None:
    embedder = HttpEmbedder("http://127.0.0.1:9/v1", "m", timeout_s=0.5)
    with pytest.raises(RoutingError, match=r"127\.0\.0\.1:9/v1/embeddings"):
        embedder.embed(["x"])


def test_configured_embedder_uses_the_endpoint_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from lmos_studio.config import get_settings
    from lmos_studio.routing.embedding import configured_embedder

    monkeypatch.setenv("LMOS_STUDIO_EMBEDDING_MODEL", "text-embedding-3-small")
    monkeypatch.setenv("LMOS_STUDIO_LLM_BASE_URL", "http://127.0.0.1:1/v1")
    get_settings.cache_clear()
    try:
        embedder = configured_embedder()
        assert isinstance(embedder, HttpEmbedder)
        assert embedder.url == "http://127.0.0.1:1/v1/embeddings" and embedder.name == "text-embedding-3-small"
    finally:
        get_settings.cache_clear()


def test_prompt_lists_capabilities_with_a_few_examples() -> None:
    from lmos_studio.routing.llm import PROMPT_EXAMPLES, agents_json

    listed = json.loads(agents_json(TABLE))
    assert [a["name"] for a in listed] == ["billing-agent", "contract-agent"]
    view = listed[0]["capabilities"][0]
    assert view == {
        "name": "view-bill",
        "description": "Show a bill",
        "examples": ["show my bill", "how much do I owe"][:PROMPT_EXAMPLES],
    }


def test_the_llm_router_answers_a_listed_message_no_agent_without_asking() -> None:
    """The LLM router ignored spec.routing.outOfScope: a listed message went to the model and got an agent."""
    server = scripted(answer("billing-agent", "view-bill", confidence=0.9))
    try:
        listed = replace(TABLE, out_of_scope=("Book a meeting  room",))
        result = llm(server).fit(listed).route("book a meeting room")
        assert result.rejected_by == "listed" and not server.requests
        assert result.with_threshold(0.5).rejected_by == "listed"  # nothing was ranked to fall back on
        assert llm(server).fit(listed).route("show my bill").best is not None  # others still asked
    finally:
        server.stop()


def test_hybrid_llm_answers_keep_their_confidence_and_threshold() -> None:
    """Where the LLM decided, the hybrid router's answer had no fit and no threshold: --min-score and the
    design's minScore were ignored, and the LLM's "no agent" read as "fit 0.00 below threshold 1.00"."""
    server = scripted(answer("billing-agent", "download-bill", confidence=0.8), answer(None))
    try:
        strict = replace(TABLE, min_score=0.9)
        hybrid = HybridRouter(fast=StatisticalRouter(), llm=llm(server), threshold=1.01).fit(strict)
        decided = hybrid.route("please download the invoice pdf")
        assert decided.usage["track"] == "llm" and (decided.fit, decided.threshold) == (0.8, 0.9)
        assert decided.rejected_by == "fit" and decided.best is None  # held to the design's minScore
        assert decided.with_threshold(0.5).best is not None  # a per-call --min-score 0.5 lets it through
        none = hybrid.route("hello there")
        assert none.rejected_by == "declined" and none.matches  # the fast candidates stay, greyed
    finally:
        server.stop()
