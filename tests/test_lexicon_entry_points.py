"""Every routing entry point follows the lexicon policy (`spec.routing.lexicon`, `--lexicon`): lint's
ambiguity check, `diff --queries`, whatif, routing tests and the hybrid router (its shortlist, against the
OpenAI-compatible stub server; its prompt does not change), with the choice in their JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from lmos_studio.formats.design_file import design_to_yaml
from lmos_studio.lifecycle import diff_designs
from lmos_studio.model import Agent, Capability, Channel, Design, RequiredCapability, RoutingSettings, RoutingTest
from lmos_studio.routing.base import RoutingTable
from lmos_studio.routing.confusion import ambiguity_check, lint_report
from lmos_studio.routing.hybrid import SHORTLIST, HybridRouter
from lmos_studio.routing.labelled import LabelledQuery
from lmos_studio.routing.llm import INSTRUCTIONS, LlmRouter, agents_json
from lmos_studio.routing.regression import run_routing_tests
from lmos_studio.routing.statistical import StatisticalRouter
from lmos_studio.whatif import parse_change, what_if
from tests.conftest import run_cli
from tests.openai_stub import StubServer, keyword_chat

# ------------------------------------------------------------------------------------------ lint's ambiguity

LABELS = {"tenant": "insurer", "channel": "web", "version": "1.0.0", "subset": "stable"}


def _agent(name: str, capability: str, description: str, examples: tuple[str, ...]) -> Agent:
    return Agent(
        name=name,
        capabilities=(Capability(name=capability, version="1.0.0", description=description, examples=examples),),
        supported_tenants=("insurer",),
        supported_channels=("web",),
    )


def insurer(lexicon: str = "auto", vocabulary: tuple[tuple[str, ...], ...] = ()) -> Design:
    """An insurer's web channel: filing a claim and making a complaint are different things there, though the
    customer-service lexicon reads "claim" and "complaint" as one concept."""
    claims = _agent(
        "claims-agent",
        "file-claim",
        "Opens an insurance claim after damage or an accident.",
        ("file a claim for my car", "claim for the water damage", "my claim after the storm", "start a claim for hail"),
    )
    care = _agent(
        "care-agent",
        "make-complaint",
        "Takes a complaint about our adjusters or brokers.",
        (
            "file a complaint for my car",
            "complaint for the water damage",
            "my complaint after the storm",
            "start a complaint for hail",
        ),
    )
    requires = tuple(RequiredCapability(name=n, version="*") for n in ("file-claim", "make-complaint"))
    return Design(
        name="insurer",
        agents=(claims, care),
        channels=(Channel(name="web", labels=LABELS, required_capabilities=requires),),
        routing=RoutingSettings.model_validate({"lexicon": lexicon, "vocabulary": [list(g) for g in vocabulary]}),
    )


def test_lint_ambiguity_follows_the_lexicon_policy() -> None:
    # Compared as words only (method "lexicon": no embeddings), so only the lexicon decides the crossing.
    forced = ambiguity_check(insurer("customer-service"), method="lexicon")
    assert len(forced.findings) == 1 and "file-claim" in forced.findings[0].message
    assert "(leave-one-out, lexicon)" in forced.findings[0].message
    assert forced.lexicon_summaries() == {"default/web": "lexicon: on (spec.routing.lexicon: customer-service)"}
    assert ambiguity_check(insurer("none"), method="lexicon").findings == []
    auto = ambiguity_check(insurer("auto"), method="lexicon")  # another domain: auto reads it without the lexicon
    assert auto.findings == [] and not auto.lexicon["default/web"].used
    assert auto.lexicon["default/web"].describe().startswith("lexicon: off (auto: ")


def test_lint_without_the_lexicon_still_reads_the_designs_vocabulary() -> None:
    taught = ambiguity_check(insurer("none", vocabulary=(("claim", "complaint"),)), method="lexicon")
    assert len(taught.findings) == 1 and "(leave-one-out, words)" in taught.findings[0].message


def test_lint_in_the_lexicons_domain_reads_with_it_by_the_words_alone() -> None:
    shop = Design(
        name="shop",
        agents=(
            _agent("parcel-agent", "track-parcel", "", ("where is my parcel", "track my parcel", "no parcel yet")),
            _agent("package-agent", "track-package", "", ("where is my package", "track my package", "no package")),
        ),
        channels=(
            Channel(
                name="web",
                labels=LABELS,
                required_capabilities=tuple(
                    RequiredCapability(name=n, version="*") for n in ("track-parcel", "track-package")
                ),
            ),
        ),
    )
    report = lint_report(shop, method="lexicon")
    found = [f for f in report.findings if f.code == "ambiguous-capabilities"]
    assert len(found) == 1 and report.lexicon["default/web"].used
    assert "judged by the words alone, no held-out check" in report.lexicon_summaries()["default/web"]


def test_lint_cli_lexicon_option_and_json(tmp_path: Path) -> None:
    path = tmp_path / "insurer.yaml"
    path.write_text(design_to_yaml(insurer()))
    linted = run_cli("lint", str(path), "-o", "json")
    assert linted.returncode == 0, linted.stderr
    assert json.loads(linted.stdout)["lexicon"]["default/web"].startswith("lexicon: off (auto: ")
    forced = run_cli("lint", str(path), "-o", "json", "--lexicon", "customer-service")
    data = json.loads(forced.stdout)
    assert data["lexicon"] == {"default/web": "lexicon: on (spec.routing.lexicon: customer-service)"}
    assert any(f["code"] == "ambiguous-capabilities" for f in data["findings"])
    bad = run_cli("lint", str(path), "--lexicon", "maybe")
    assert bad.returncode == 2 and "--lexicon is 'maybe'" in bad.stderr and "Traceback" not in bad.stderr


# ------------------------------------------------------------------ a shop where the lexicon moves answers


def _shop_agent(name: str, capability: str, description: str, examples: tuple[str, ...]) -> Agent:
    return Agent(
        name=name,
        description=name.split("-")[0].title() + "s",
        capabilities=(Capability(name=capability, version="1.0.0", description=description, examples=examples),),
    )


SHOP_AGENTS = (
    _shop_agent("refund-agent", "get-refund", "Refunds money for an order.", ("refund please", "refund my order")),
    _shop_agent("invoice-agent", "get-invoice", "Sends the invoice of an order.", ("send the invoice", "invoice pdf")),
    _shop_agent("order-agent", "cancel-order", "Cancels an order.", ("cancel my order", "cancel the order now")),
    _shop_agent("delivery-agent", "track-order", "Tracks where an order is.", ("track my order", "where is my order")),
    _shop_agent(
        "account-agent", "change-password", "Changes the account password.", ("change my password", "new password")
    ),
    _shop_agent(
        "address-agent", "change-address", "Changes the delivery address.", ("change my address", "update the address")
    ),
)
# "revoke" and "checkout" are the lexicon's words for cancel and order: with it the order agent answers. (Not "call
# off my purchase": the static word vectors, routing/capability.py, read that as the order agent's without it.)
SYNONYMS = "revoke my checkout"


def shop(lexicon: str = "auto", tests: tuple[RoutingTest, ...] = ()) -> Design:
    return Design(
        name="shop",
        agents=SHOP_AGENTS,
        routing=RoutingSettings.model_validate({"lexicon": lexicon}),
        routing_tests=tests,
    )


def shop_table(lexicon: str) -> RoutingTable:
    from lmos_studio.routing.table import routing_table

    return routing_table(shop(lexicon), None)


def top_agents(lexicon: str, query: str) -> list[str]:
    return [m.agent for m in StatisticalRouter().fit(shop_table(lexicon)).route(query, top_k=SHORTLIST).matches]


def test_the_shop_answers_differently_with_and_without_the_lexicon() -> None:
    assert top_agents("customer-service", SYNONYMS)[0] == "order-agent"
    assert top_agents("none", SYNONYMS)[0] != "order-agent"


def test_diff_routes_each_design_with_its_own_policy_and_says_so() -> None:
    query = LabelledQuery(SYNONYMS, "order-agent", "cancel-order", "", 2)
    result = diff_designs(shop("customer-service"), shop("none"), queries=[query], router=StatisticalRouter())
    assert [(c.before.agent, c.after.agent != "order-agent") for c in result.routing_impact] == [("order-agent", True)]
    assert result.lexicon == {
        "before": {"": "lexicon: on (spec.routing.lexicon: customer-service)"},
        "after": {"": "lexicon: off (spec.routing.lexicon: none)"},
    }
    assert result.to_json()["routingImpact"]["lexicon"] == result.lexicon
    assert "lexicon" not in diff_designs(shop(), shop("none"), queries=[query]).to_json()["routingImpact"]


def test_diff_cli_lexicon_option(tmp_path: Path) -> None:
    old, new, queries = tmp_path / "old.yaml", tmp_path / "new.yaml", tmp_path / "q.csv"
    old.write_text(design_to_yaml(shop("customer-service")))
    new.write_text(design_to_yaml(shop("customer-service").replace(agents=SHOP_AGENTS[:-1])))  # address agent gone
    queries.write_text(f"query,agent\n{SYNONYMS},order-agent\nchange my address,address-agent\n")
    args = ("diff", str(old), str(new), "--queries", str(queries), "--router", "statistical", "-o", "json")
    own = json.loads(run_cli(*args).stdout)["routingImpact"]
    assert own["lexicon"]["after"] == {"": "lexicon: on (spec.routing.lexicon: customer-service)"}
    forced = run_cli(*args, "--lexicon", "none")
    assert forced.returncode == 1, forced.stderr  # removing an agent is breaking
    impact = json.loads(forced.stdout)["routingImpact"]
    off = {"": "lexicon: off (spec.routing.lexicon: none)"}
    assert impact["lexicon"] == {"before": off, "after": off}
    table = run_cli(*args[:-2], "--lexicon", "none")
    assert "after all agents: lexicon: off (spec.routing.lexicon: none)" in table.stdout
    bad = run_cli(*args, "--lexicon", "maybe")
    assert bad.returncode == 2 and "--lexicon is 'maybe'" in bad.stderr and "Traceback" not in bad.stderr
    alone = run_cli("diff", str(old), str(new), "--lexicon", "none")
    assert alone.returncode == 2 and "--lexicon applies to routing: give --router" in alone.stderr


def test_whatif_and_routing_tests_report_the_choice() -> None:
    tests = (RoutingTest(query=SYNONYMS, expect_agent="order-agent"),)
    outcomes = run_routing_tests(shop("customer-service", tests), router=StatisticalRouter())
    assert outcomes[0].passed and outcomes[0].lexicon == "lexicon: on (spec.routing.lexicon: customer-service)"
    assert outcomes[0].to_dict()["lexicon"] == outcomes[0].lexicon
    assert not run_routing_tests(shop("none", tests), router=StatisticalRouter())[0].passed
    result = what_if(shop("none", tests), [parse_change("remove-agent", "address-agent")], router=StatisticalRouter())
    assert result.to_dict()["lexicon"] == {
        side: {"": "lexicon: off (spec.routing.lexicon: none)"} for side in ("before", "after")
    }


def test_test_and_whatif_cli_json_carry_the_choice(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(design_to_yaml(shop(tests=(RoutingTest(query=SYNONYMS, expect_agent="order-agent"),))))
    tested = run_cli("test", str(path), "-r", "statistical", "-o", "json", "--lexicon", "customer-service")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert json.loads(tested.stdout)["lexicon"] == {"": "lexicon: on (spec.routing.lexicon: customer-service)"}
    changed = run_cli("whatif", str(path), "-r", "statistical", "--remove-agent", "address-agent", "--lexicon", "none")
    assert json.loads(changed.stdout)["lexicon"]["after"] == {"": "lexicon: off (spec.routing.lexicon: none)"}
    table = run_cli("test", str(path), "-r", "statistical", "--lexicon", "customer-service")
    assert "all agents: lexicon: on (spec.routing.lexicon: customer-service)" in table.stdout


# ----------------------------------------------------------------------------- the hybrid router's LLM part


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer(keyword_chat(shop_table("auto"))).start()
    yield server
    server.stop()


def llm(server: StubServer) -> LlmRouter:
    return LlmRouter(base_url=server.base_url, model="gpt-4o-mini", api_key="sk-test")


def prompt_agents(request: dict[str, object]) -> list[str]:
    system = request["messages"][0]["content"]  # type: ignore[index]
    listed = json.loads(system.split("Agents:\n", 1)[1])
    return [a["name"] for a in listed]


def test_hybrid_shortlist_follows_the_policy_and_the_prompt_does_not(stub: StubServer) -> None:
    asked: dict[str, list[str]] = {}
    for setting in ("customer-service", "none"):
        table = shop_table(setting)
        hybrid = HybridRouter(fast=StatisticalRouter(), llm=llm(stub), threshold=1.01).fit(table)  # always asks
        assert hybrid.lexicon_choice is not None and hybrid.lexicon_choice.setting == setting
        result = hybrid.route(SYNONYMS)
        assert result.usage["track"] == "llm"
        request = stub.requests[-1]
        asked[setting] = prompt_agents(request)
        assert set(asked[setting]) == set(top_agents(setting, SYNONYMS))  # the fast router's top SHORTLIST
        # the prompt is the same function of the shortlist whatever the policy: nothing about the lexicon
        assert request["messages"][0]["content"] == INSTRUCTIONS + agents_json(table, asked[setting])
        assert request["messages"][-1]["content"] == SYNONYMS
    assert set(asked["customer-service"]) != set(asked["none"]) and "order-agent" in asked["customer-service"]
    overridden = HybridRouter(fast=StatisticalRouter(), llm=llm(stub), threshold=1.01, lexicon="none")
    overridden.fit(shop_table("customer-service")).route(SYNONYMS)
    assert set(prompt_agents(stub.requests[-1])) == set(asked["none"])


def test_hybrid_routes_a_list_with_one_fast_batch_and_asks_the_llm_below_the_threshold(
    stub: StubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = ["I want my money back", SYNONYMS, "where is my parcel", "send me the bill", "reimburse me"]
    hybrid = HybridRouter(fast=StatisticalRouter(), llm=llm(stub), threshold=0.9).fit(shop_table("customer-service"))
    one_by_one = [hybrid.route(q) for q in queries]
    asked_one_by_one = len(stub.requests)
    calls: list[str] = []
    fast = hybrid.fast
    monkeypatch.setattr(type(fast), "route", lambda self, q, **k: calls.append("route") or pytest.fail("one by one"))
    real_batch = type(fast).route_batch

    def counted(self: object, texts: list[str], **kwargs: int) -> list[object]:
        calls.append(f"batch of {len(texts)}")
        return real_batch(self, texts, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(type(fast), "route_batch", counted)
    batched = hybrid.route_batch(queries)
    assert calls == [f"batch of {len(queries)}"]
    assert len(stub.requests) - asked_one_by_one == asked_one_by_one == sum(r.usage["track"] == "llm" for r in batched)
    assert 0 < asked_one_by_one < len(queries)  # some answered on the fast track, some by the LLM
    assert [(r.best.agent, r.best.capability, r.usage["track"]) for r in batched if r.best] == [
        (r.best.agent, r.best.capability, r.usage["track"]) for r in one_by_one if r.best
    ]


def test_route_cli_with_the_hybrid_and_llm_routers(stub: StubServer, tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(design_to_yaml(shop()))
    env = {"LMOS_STUDIO_LLM_BASE_URL": stub.base_url, "LMOS_STUDIO_LLM_API_KEY": "sk-test"}
    env |= {"LMOS_STUDIO_HYBRID_THRESHOLD": "1", "LMOS_STUDIO_DATA_DIR": str(tmp_path / "data")}
    routed = run_cli("route", str(path), SYNONYMS, "-r", "hybrid", "--lexicon", "none", env=env)
    assert routed.returncode == 0, routed.stderr
    data = json.loads(routed.stdout)
    assert data["router"] == "hybrid" and data["lexicon"]["setting"] == "none" and not data["lexicon"]["used"]
    assert re.search(r"decided by the LLM among", " ".join(data["match"]["evidence"]))
    alone = json.loads(run_cli("route", str(path), SYNONYMS, "-r", "llm", env=env).stdout)
    assert alone["router"] == "llm" and alone["lexicon"] is None  # the LLM router alone has no lexicon


def test_the_llm_router_prompt_has_no_lexicon_in_it(stub: StubServer) -> None:
    prompts = set()
    for setting in ("customer-service", "none"):
        llm(stub).fit(replace(shop_table("auto"), lexicon=setting)).route(SYNONYMS)
        prompts.add(stub.requests[-1]["messages"][0]["content"])
    assert len(prompts) == 1
