"""The statistical router on small designs with known answers (the acme sample, hand-made tables)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from lmos_studio.errors import RoutingError
from lmos_studio.formats.design_file import read_design
from lmos_studio.routing.base import Candidate, RoutingTable
from lmos_studio.routing.select import RouterCache, get_router, router_names
from lmos_studio.routing.statistical import StatisticalRouter, blend_weights
from lmos_studio.routing.table import routing_table
from tests.conftest import ACME, SAMPLES
from tests.routing_fake import no_match_signals

SHOP = RoutingTable(
    channel="shop",
    candidates=(
        Candidate(
            "order-agent",
            "cancel_order",
            "Cancel an order that was placed",
            ("cancel my order", "I want to cancel purchase 123", "stop my order please"),
        ),
        Candidate(
            "order-agent",
            "track_order",
            "Where is my order, order status",
            ("where is my order", "track my parcel", "status of order 55"),
        ),
        Candidate(
            "payment-agent",
            "payment_methods",
            "Which payment methods are accepted",
            ("can I pay with paypal", "which cards do you accept", "payment options"),
        ),
        Candidate(
            "account-agent",
            "recover_password",
            "Recover a forgotten password",
            ("I forgot my password", "reset my password", "cannot log in"),
        ),
    ),
)


def test_acme_routing_tests_pass() -> None:
    design = read_design(ACME)
    for test in design.routing_tests:
        channel = {"acme-web-stable": "default/acme-web-stable", "acme-ivr-stable": "default/acme-ivr-stable"}.get(
            test.channel, test.channel
        )
        best = StatisticalRouter().fit(routing_table(design, channel)).route(test.query).best
        assert best is not None
        assert best.agent == test.expect_agent, test.query
        if test.expect_capability:
            assert best.capability == test.expect_capability, test.query


@pytest.mark.parametrize(
    ("query", "agent", "capability"),
    [
        ("please cancel the purchase I made yesterday", "order-agent", "cancel_order"),
        ("wheres my parcel??", "order-agent", "track_order"),
        ("do u take credit cards", "payment-agent", "payment_methods"),
        ("i forgot my pasword", "account-agent", "recover_password"),
    ],
)
def test_paraphrases_route_to_the_right_capability(query: str, agent: str, capability: str) -> None:
    best = StatisticalRouter().fit(SHOP).route(query).best
    assert best is not None
    assert (best.agent, best.capability) == (agent, capability)


def test_matches_are_ranked_agents_with_scores_and_evidence() -> None:
    result = StatisticalRouter().fit(SHOP).route("cancel my order 42", top_k=2)
    assert result.router == "statistical"
    assert result.matches[0].agent == "order-agent"
    assert len(result.matches) == 2
    assert all(0.0 <= m.score <= 1.0 for m in result.matches)
    assert result.matches[0].score >= result.matches[1].score
    assert any("cancel my order" in e for e in result.matches[0].evidence)


def test_zero_shot_uses_descriptions_and_names() -> None:
    bare = RoutingTable(
        channel="", candidates=tuple(Candidate(c.agent, c.capability, c.description) for c in SHOP.candidates)
    )
    best = StatisticalRouter().fit(bare).route("I'd like to stop my order").best
    assert best is not None and best.capability == "cancel_order"
    best = StatisticalRouter().fit(bare).route("my password is lost").best
    assert best is not None and best.agent == "account-agent"


def test_seed_rows_teach_agents_even_with_unknown_capabilities() -> None:
    bare = RoutingTable(
        channel="", candidates=tuple(Candidate(c.agent, c.capability, c.description) for c in SHOP.candidates)
    )
    seed = [
        ("change the delivery address of my order", "order-agent", "change_address"),
        ("ship it to my office instead", "order-agent", "change_address"),
        ("ignored, agent not in table", "nobody", ""),
    ]
    best = StatisticalRouter().fit(bare, seed=seed).route("ship it to my office").best
    assert best is not None and best.agent == "order-agent"
    assert best.capability in {"cancel_order", "track_order"}  # only capabilities the table knows


def test_empty_query_and_empty_table_route_nowhere() -> None:
    assert StatisticalRouter().fit(SHOP).route("   ").matches == ()
    assert StatisticalRouter().fit(RoutingTable("", ())).route("hello").matches == ()


def test_single_candidate_answers_unless_nothing_fits() -> None:
    one = RoutingTable("", (SHOP.candidates[0],))
    fitted = StatisticalRouter().fit(one)
    unrelated = fitted.route("something unrelated")
    assert unrelated.no_match and unrelated.best is None and unrelated.matches[0].agent == "order-agent"
    best = fitted.route("cancel the order please").best
    assert best is not None and best.agent == "order-agent"
    always = StatisticalRouter().fit(RoutingTable("", (SHOP.candidates[0],), min_score=0.0))
    assert always.route("something unrelated").best is not None  # the design's minScore 0: always answer


def test_blend_weights_move_from_descriptions_to_examples() -> None:
    assert blend_weights(0)[1] == 0.0 and blend_weights(0)[2] > 0.5  # no examples: no kNN, mostly descriptions
    few, many = blend_weights(5), blend_weights(100)
    assert few[2] > many[2]
    assert sum(few) == pytest.approx(1.0) and sum(many) == pytest.approx(1.0)


def test_router_names_and_unknown_router() -> None:
    assert router_names()[0] == "auto"
    assert {"statistical", "embedding", "llm", "hybrid"} <= set(router_names())
    with pytest.raises(RoutingError, match="unknown router 'nope'"):
        get_router("nope")


def test_router_cache_fits_once_per_content() -> None:
    cache = RouterCache(max_entries=2)
    first = cache.fitted("statistical", SHOP)
    assert cache.fitted("statistical", RoutingTable(SHOP.channel, SHOP.candidates)) is first
    assert cache.fitted("statistical", SHOP, seed=[("x", "order-agent", "")]) is not first
    cache.fitted("statistical", RoutingTable("other", SHOP.candidates[:2]))
    assert len(cache) == 2
    assert cache.fitted("statistical", SHOP) is not first  # evicted (least recently used)


def test_tables_of_stop_words_still_fit() -> None:
    table = RoutingTable("", (Candidate("it", "the"), Candidate("me", "a", examples=("!!",))))
    result = StatisticalRouter().fit(table).route("hello there")
    assert {m.agent for m in result.matches} == {"it", "me"}


@pytest.mark.parametrize("query", ["🙂🙂", "???", "x" * 20_000, "Стоп заказ", "{{Order Number}}", "\x00\n\t"])
def test_odd_queries_get_valid_scores(query: str) -> None:
    result = StatisticalRouter().fit(SHOP).route(query)
    assert len(result.matches) == 3
    assert all(0.0 <= m.score <= 1.0 for m in result.matches)
    assert sum(m.score for m in result.matches) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(
    ("query", "agent"),
    [
        ("I want my money back for the broken blender", "refund-agent"),
        ("can I talk to a real person please", "contact-agent"),
        ("where's my parcel, it's been a week", "delivery-agent"),
        ("do you take paypal?", "payment-agent"),
        ("unsubscribe me from the newsletter", "subscription-agent"),
    ],
)
def test_router_benchmark_sample_routes_informal_queries(query: str, agent: str) -> None:
    design = read_design(SAMPLES / "router-benchmark.yaml")
    fitted = RouterCache().fitted("statistical", routing_table(design, "customer-service"))
    best = fitted.route(query).best
    assert best is not None and best.agent == agent


def test_large_tables_use_class_centroids(monkeypatch: pytest.MonkeyPatch) -> None:
    from lmos_studio.routing import statistical

    monkeypatch.setattr(statistical, "SVM_MAX_CLASSES", 2)  # SHOP has 4 classes: centroids
    fitted = StatisticalRouter().fit(SHOP)
    assert not isinstance(fitted.coef, np.ndarray)
    best = fitted.route("I forgot my password").best
    assert best is not None and best.capability == "recover_password"


def test_batch_routes_like_one_by_one_and_route_fitted_dispatches() -> None:
    from lmos_studio.routing.base import route_batch, route_fitted

    fitted = StatisticalRouter().fit(SHOP)
    queries = ["cancel my order", "", "where is my parcel", "tell me a joke", "cancel"]
    batch = route_fitted(fitted, queries, top_k=3)
    for query, got in zip(queries, batch, strict=True):
        alone = fitted.route(query, top_k=3)
        assert [(m.agent, m.capability, m.evidence) for m in got.matches] == [
            (m.agent, m.capability, m.evidence) for m in alone.matches
        ]
        assert [m.score for m in got.matches] == pytest.approx([m.score for m in alone.matches], abs=1e-4)
        assert (got.fit, got.threshold, got.no_match) == (alone.fit, alone.threshold, alone.no_match)
    assert batch[1].matches == () and batch[1].no_match
    assert [r.best.agent if r.best else "" for r in route_batch(StatisticalRouter(), queries[:1], SHOP)] == [
        "order-agent"
    ]
    assert route_batch(StatisticalRouter(), ["x"], RoutingTable("", ()))[0].no_match


CLAIMS = (  # two capabilities of one agent sharing its words, and an unrelated agent
    Candidate("claims-agent", "file_claim", "Files a new claim", ("I want to make a claim", "report a claim")),
    Candidate("claims-agent", "claim_status", "Where a claim stands", ("status of my claim", "is my claim approved")),
    Candidate("weather-agent", "forecast", "The weather", ("will it rain", "forecast for tomorrow")),
)


def test_capability_within_an_agent_is_chosen_by_its_own_model() -> None:
    """An agent whose capabilities share its words gets a model of its own (routing/capability.py): it tells
    them apart, the agent ranking and scores stay the blended ones, and one-capability agents get none."""
    from lmos_studio.routing import capability

    claims = "claims-agent"
    table = RoutingTable(
        channel="",
        candidates=CLAIMS,
    )
    fitted = StatisticalRouter(lexicon="none").fit(table)
    assert fitted.siblings is not None and [g.tolist() for g in fitted.siblings.groups] == [[0, 1]]
    x = fitted.encoder.matrix(["has my claim been approved", "will it rain"])
    scores, _, _ = fitted.score_batch(["has my claim been approved", "will it rain"])
    picked = capability.capability_scores(fitted.siblings, x, scores)
    assert np.allclose(picked[:, :2].sum(axis=1), 1.0)  # shares within the agent, mixed: still shares
    assert capability.capability_scores(None, x, scores) is scores
    best = fitted.route("has my claim been approved", top_k=1).matches[0]
    assert (best.agent, best.capability) == (claims, "claim_status")
    assert best.score == round(float(min(scores[0, :2].sum(), 1.0)), 4)  # the agent's blended score


class MeaningEmbedder:
    """A stand-in sentence encoder (no model): a text about a claim's progress points one way, anything
    else another; counts the texts it encodes."""

    name = "meaning"

    def __init__(self) -> None:
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.texts += len(texts)
        progress = ("status", "approved", "stands", "news", "heard back")
        rows = [[1.0, 0.0] if any(w in t.lower() for w in progress) else [0.0, 1.0] for t in texts]
        return np.array(rows, dtype=np.float32)


def test_an_embedder_has_most_of_the_say_in_the_capability_and_none_in_the_agent() -> None:
    """Given an embedder, the capability within the chosen agent follows the queries' sentence embeddings
    (routing/capability.py, `CapabilityCentroids`) where the words alone mislead; agents and scores do not
    change, and without an embedder nothing is embedded."""
    table = RoutingTable(channel="", candidates=CLAIMS)
    queries = ["any news on the claim I made last week", "I want to make a claim", "will it rain"]
    embedder = MeaningEmbedder()
    plain = StatisticalRouter(lexicon="none").fit(table)
    embedded = StatisticalRouter(lexicon="none", embedder=embedder).fit(table)
    assert plain.centroids is None and embedded.centroids is not None
    before, after = plain.route_batch(queries, top_k=2), embedded.route_batch(queries, top_k=2)
    assert [[(m.agent, m.score) for m in r.matches] for r in before] == [
        [(m.agent, m.score) for m in r.matches] for r in after
    ]
    assert before[0].matches[0].capability == "file_claim"  # "I made a claim": the words point to filing
    assert [r.matches[0].capability for r in after] == ["claim_status", "file_claim", "forecast"]
    assert embedder.texts == len(CLAIMS) + 6 + len(queries)  # own texts and examples once, then the queries


def test_large_tables_fit_the_svm_over_agents_split_by_capability_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """From SVM_AGENT_ROWS rows on, the SVM tells agents apart and each agent's capability model splits its
    probability: P(agent) × P(capability | agent). Smaller tables keep the class SVM."""
    from lmos_studio.routing import statistical

    claims = "claims-agent"
    table = RoutingTable(
        channel="",
        candidates=(
            *CLAIMS,
            Candidate("shop-agent", "order", "Place an order", ("buy a lamp", "order a new chair")),
        ),
    )
    small = StatisticalRouter(lexicon="none").fit(table)
    assert not small.agent_model and small.coef is not None and small.coef.shape[1] == 4  # one column per class
    monkeypatch.setattr(statistical, "SVM_AGENT_ROWS", 1)
    fitted = StatisticalRouter(lexicon="none").fit(table)
    assert fitted.agent_model and fitted.coef is not None and fitted.coef.shape[1] == 3  # one column per agent
    queries = ["has my claim been approved", "will it rain", "buy me a chair", "zzz"]
    fitted.weights = (1.0, 0.0, 0.0)  # the SVM's probabilities alone
    fitted.static_agents = False  # (without the static opinion among agents)
    scores, _, _ = fitted.score_batch(queries)
    assert np.allclose(scores.sum(axis=1), 1.0)
    assert np.allclose(scores[3], 0.25)  # no known word: uniform over the classes
    x = fitted.encoder.matrix(queries[:1])
    decision = np.asarray(x @ fitted.coef).ravel() + fitted.intercept
    p_agent = np.exp(8.0 * (decision - decision.max()))
    assert np.isclose(scores[0, :2].sum(), p_agent[0] / p_agent.sum())  # the claims agent's share: P(agent)
    best = fitted.route("has my claim been approved", top_k=1).matches[0]
    assert (best.agent, best.capability) == (claims, "claim_status")


ROADSIDE = (  # names and descriptions only: the words of "the engine stopped" are in neither capability
    Candidate("roadside-agent", "breakdown", "Sends a mechanic when the car has broken down.", ()),
    Candidate("roadside-agent", "locked_out", "Opens the car when the keys are locked inside.", ()),
    Candidate("policy-agent", "buy_policy", "Quotes a new car insurance policy.", ()),
)


def test_static_token_vectors_pick_the_capability_the_words_miss() -> None:
    """Without an embedder, MiniLM's input token vectors have a say in the capability within the chosen agent
    (routing/capability.py, `StaticCentroids`): "engine stopped" is a breakdown though it shares no word with
    it; agents and scores do not change, the share fades with examples, and the lexicon check's folds leave it out."""
    table = RoutingTable(channel="", candidates=ROADSIDE)
    queries = ["the engine stopped on the motorway", "my wife has the spare key and the door is shut"]
    fitted = StatisticalRouter(lexicon="none").fit(table)
    words_only = StatisticalRouter(lexicon="none").fit(table)
    words_only.static_pick = False
    with_static, without = fitted.route_batch(queries), words_only.route_batch(queries)
    assert [r.matches[0].capability for r in with_static] == ["breakdown", "locked_out"]
    assert [r.matches[0].capability for r in without] == ["locked_out", "locked_out"]
    assert [[(m.agent, m.score) for m in r.matches] for r in with_static] == [
        [(m.agent, m.score) for m in r.matches] for r in without
    ]
    assert fitted.static is not None and fitted.static.share == 0.5  # no examples: STATIC_SHARE
    assert words_only.static is not None and words_only.static.share == 0.0  # the opinion among agents only
    examples = RoutingTable(channel="", candidates=CLAIMS)
    shown = StatisticalRouter(lexicon="none").fit(examples)
    shown.route("has my claim been approved")
    assert shown.static is not None and shown.static.share == pytest.approx(0.5 / (1 + 2 / 3))  # 2 examples each
    fold = StatisticalRouter(lexicon="none")._fit(table, (), full=False)  # the lexicon check's: words only
    assert [r.matches[0].capability for r in fold.route_batch(queries)] == ["locked_out", "locked_out"]
    assert not fold.static_pick and fold.static is None


def test_static_opinion_needs_two_capabilities_in_an_agent_and_no_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    """One capability per agent leaves nothing to choose; an embedder's opinion replaces the static one; with
    many examples per class (a share below STATIC_MIN_SHARE) it is left out. The opinion among agents stays."""
    from lmos_studio.routing import capability

    single = RoutingTable(channel="", candidates=(ROADSIDE[0], ROADSIDE[2]))
    fitted = StatisticalRouter(lexicon="none").fit(single)
    assert fitted.route("the engine stopped").matches[0].capability == "breakdown"
    assert fitted.static is not None and fitted.static.share == 0.0 and fitted.static.agent_share == 0.5
    assert not len(fitted.static.vectors.T)  # no within-agent centroids made
    embedded = StatisticalRouter(lexicon="none", embedder=MeaningEmbedder()).fit(
        RoutingTable(channel="", candidates=CLAIMS)
    )
    embedded.route("any news on my claim")
    assert embedded.static is not None and embedded.static.share == 0.0
    monkeypatch.setattr(capability, "STATIC_MIN_SHARE", 0.31)  # CLAIMS: 2 examples per class, share 0.3
    many = StatisticalRouter(lexicon="none").fit(RoutingTable(channel="", candidates=CLAIMS))
    many.route("any news on my claim")
    assert many.static is None and not many.static_pick and not many.static_agents


def test_static_token_vectors_rank_the_agent_the_words_miss() -> None:
    """Static word vectors have a say among agents too (`StaticCentroids.ranked`): "cover for my vehicle" is the
    policy agent's though it shares no word with it. Each agent's capability, `fit`, the threshold and "nearer
    elsewhere" do not change; the share fades with examples as the within-agent one does; the lexicon check's
    folds and the embedding router's lexical part leave it out (tests/test_routing_embedding.py)."""
    table = RoutingTable(channel="", candidates=ROADSIDE)
    queries = ["I want cover for my vehicle", "the engine stopped on the motorway", "my keys are inside", "zzz"]
    fitted = StatisticalRouter(lexicon="none").fit(table)
    words_only = StatisticalRouter(lexicon="none").fit(table)
    words_only.static_agents = False
    with_static, without = fitted.route_batch(queries), words_only.route_batch(queries)
    assert with_static[0].matches[0].agent == "policy-agent" and without[0].matches[0].agent == "roadside-agent"
    for a, b in zip(with_static, without, strict=True):
        assert {m.agent: m.capability for m in a.matches} == {m.agent: m.capability for m in b.matches}
        assert no_match_signals(a) == no_match_signals(b)
        assert sum(m.score for m in a.matches) == pytest.approx(sum(m.score for m in b.matches), abs=1e-3)
    assert fitted.static is not None and fitted.static.agent_share == 0.5  # no examples: STATIC_AGENT_SHARE
    shown = StatisticalRouter(lexicon="none").fit(RoutingTable(channel="", candidates=CLAIMS))
    shown.route("has my claim been approved")
    assert shown.static is not None and shown.static.agent_share == pytest.approx(0.5 / (1 + 2 / 3))
    fold = StatisticalRouter(lexicon="none")._fit(table, (), full=False)
    assert fold.route(queries[0]).matches[0].agent == "roadside-agent" and fold.static is None


def test_static_token_table_is_read_from_the_pinned_model() -> None:
    """The table is the model file's word embeddings (int8 rows, a scale each); related words lie nearer."""
    from lmos_studio.routing.capability import token_vectors

    table = token_vectors()
    assert table is not None and table.rows.shape == (30522, 384) and table.scales.shape == (30522, 1)
    wedding, marriage, battery, empty = table.vectors(["wedding", "marriage", "battery", ""])
    assert float(wedding @ marriage) > float(wedding @ battery) + 0.1
    assert np.allclose(np.linalg.norm([wedding, marriage, battery], axis=1), 1.0) and not empty.any()
    assert table.weights[2000] > table.weights[1996] > table.weights[500]  # rarer tokens weigh more


def test_static_token_ids_are_the_tokenizers_though_each_word_is_read_once() -> None:
    """`token_ids` tokenises each distinct space-separated word once, yet gives the ids the tokenizer gives each
    whole text, in order and cut where it cuts them (128 ids): accents, combining marks, CJK, control characters,
    added tokens, punctuation inside words, runs of spaces; and the classes' texts of a design."""
    from itertools import chain

    from lmos_studio.routing.capability import _distinct, capability_texts, token_vectors
    from lmos_studio.routing.training import training_set

    table = token_vectors()
    assert table is not None
    odd = [
        "",
        " ",
        "two  spaces ",
        " lead",
        "naïve café",
        "a \u0301b \u0301",
        "e\u0301 İstanbul ΣΑΣ",
        "[CLS] a [MASK]b x[SEP]y",
        "中文字 mixed中",
        "tab\there new\nline \x1cfile\x1fsep nbsp\u00a0here zero\u200bwidth \ufffd \x00nul",
        "emoji 😀 don't stop-me.now (order #42), please!",
        "x" * 300,
        "order " * 200,
        "supercalifragilistic " * 20,  # more than 128 ids: cut where the tokenizer cuts
    ]
    data = training_set(routing_table(read_design(ACME), None))
    texts = odd + list(data.descriptions) + capability_texts(data) + list(data.texts)
    owner, ids = table.token_ids(texts)
    encoded = table.tokenizer.encode_batch(texts, add_special_tokens=False)
    assert ids.tolist() == list(chain.from_iterable(e.ids for e in encoded))
    assert owner.tolist() == [i for i, e in enumerate(encoded) for _ in e.ids]
    assert max(len(e.ids) for e in encoded) == 128 and np.bincount(owner).max() == 128
    pairs = np.random.default_rng(0).integers(0, 1000, 5000)
    assert _distinct(pairs).tolist() == np.unique(pairs).tolist() and not len(_distinct(pairs[:0]))


def test_onnx_initializers_finds_tensors_by_name_suffix() -> None:
    """Initializers found by name suffix, in their dtype and shape; a missing one or bytes that are no ONNX
    model are a ValueError saying so."""
    import onnx
    from onnx import helper, numpy_helper

    from lmos_studio.routing.capability import onnx_initializers

    weights = numpy_helper.from_array(
        np.array([[1, 2, 3], [-1, -2, 0]], dtype=np.int8), "inner.word_embeddings.weight_q"
    )
    scales = numpy_helper.from_array(np.array([[0.5], [2.0]], dtype=np.float32), "inner.word_embeddings.weight_scale")
    graph = helper.make_graph([], "g", [], [], initializer=[weights, scales])
    model = onnx.helper.make_model(graph).SerializeToString()
    found = onnx_initializers(model, ("weight_q", "weight_scale"))
    assert found["weight_q"].tolist() == [[1, 2, 3], [-1, -2, 0]] and found["weight_q"].dtype == np.int8
    assert found["weight_scale"].tolist() == [[0.5], [2.0]]
    with pytest.raises(ValueError, match="no initializer ending with bias"):
        onnx_initializers(model, ("weight_q", "bias"))
    with pytest.raises(ValueError, match="not an ONNX model"):
        onnx_initializers(b"\xff\xff\xff not protobuf", ("weight_q",))


def test_static_opinion_sums_within_agents_without_a_classes_squared_matrix() -> None:
    """The within-agent softmax and shares are sums over each agent's classes, kept as a sparse classes × agents
    membership (a table of 10 000 agents would need gigabytes as a dense classes × classes matrix); they equal
    the dense sums on a small table."""
    table = RoutingTable(channel="", candidates=ROADSIDE)
    fitted = StatisticalRouter(lexicon="none").fit(table)
    fitted.route("the engine stopped")
    static = fitted.static
    assert static is not None and static.members.shape == (3, 2) and static.members.nnz == 3
    values = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 2.0]])
    dense = (static.agent_of[:, None] == static.agent_of[None, :]).astype(np.float64)
    assert np.allclose(static._agent_sums(values), values @ dense)
    many = tuple(
        Candidate(f"agent-{i}", capability, f"{capability} for account {i}", ())
        for i in range(3000)
        for capability in ("pay_bill", "track_parcel")
    )
    large = StatisticalRouter(lexicon="none").fit(RoutingTable(channel="", candidates=many))
    result = large.route("my parcel for account 17 is late")
    assert large.static is not None and large.static.members.shape == (6000, 3000)
    assert result.matches and result.matches[0].capability == "track_parcel"


def test_a_bare_number_or_lone_letters_fit_no_channel() -> None:
    """Every number reads as "0" and counted as a shared word: "12345" fitted an IT desk's "the printer on floor
    3 is jammed" (fit 0.40, evidence "shared terms: 0") and "a b c" its "meeting room B". A lone character now
    neither makes a message fit nor counts as a shared term; a number beside real words still routes."""
    desk = RoutingTable(
        channel="it",
        candidates=(
            Candidate("hardware", "printer", "Printer problems", ("the printer on floor 3 is jammed",), ""),
            Candidate("rooms", "book-room", "Book a meeting room", ("book meeting room B for 2 pm",), ""),
            Candidate("network", "vpn", "VPN access", ("the vpn drops every 5 minutes",), ""),
        ),
    )
    fitted = StatisticalRouter().fit(desk)
    for query in ("12345", "a b c", "3"):
        result = fitted.route(query)
        assert result.rejected_by == "fit" and result.fit == 0.0, query
    printer = fitted.route("printer on floor 4 jammed again")
    assert printer.best is not None and printer.best.agent == "hardware"
    assert all(
        term != "0" for e in printer.best.evidence if e.startswith("shared terms") for term in e[14:].split(", ")
    )
