"""Listing messages a channel must not answer (`spec.routing.outOfScope`): the library's edits, `edit
add-out-of-scope` / `remove-out-of-scope`, the Playground's "Not for this channel" and the Evaluate page's
missed out-of-scope rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lmos_studio.config import get_settings
from lmos_studio.errors import EditError
from lmos_studio.formats.design_file import read_design
from lmos_studio.model import MAX_OUT_OF_SCOPE, OutOfScopeExample
from lmos_studio.out_of_scope import add_out_of_scope, channel_ref, listed, remove_out_of_scope
from lmos_studio.routing.embedding import EmbeddingRouter
from lmos_studio.routing.evaluate import evaluate, evaluation_report
from lmos_studio.routing.labelled import LabelledQuery
from tests.conftest import ROOT, invoke

ACME = ROOT / "sample_networks" / "acme"
WEB = "default/acme-web-stable"


def cli(*args: str) -> tuple[int, str, str]:
    done = invoke(*args)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def acme() -> object:
    return read_design(ACME)


def test_an_example_names_its_channel_by_name_unless_another_namespace_shares_it(acme: object) -> None:
    assert channel_ref(acme, "acme-ivr-stable") == "acme-ivr-stable"  # type: ignore[arg-type]
    assert channel_ref(acme, "default/acme-ivr-stable") == "acme-ivr-stable"  # type: ignore[arg-type]
    assert channel_ref(acme, WEB) == WEB  # type: ignore[arg-type]  # lmos-demo has an acme-web-stable too
    assert channel_ref(acme, "") == ""  # type: ignore[arg-type]
    # as eval, route and test read a reference (`Design.channels_named`): a name two namespaces share is the
    # default namespace's (edit refused the CSV rows eval had accepted), a channel label names its Channel(s)
    assert channel_ref(acme, "acme-web-stable") == WEB  # type: ignore[arg-type]
    with pytest.raises(EditError, match=r"'web' names 3 channels: name one of"):
        channel_ref(acme, "web")  # type: ignore[arg-type]
    with pytest.raises(EditError, match=r"no channel 'nope' in the design \(channels: default/acme-ivr-canary"):
        channel_ref(acme, "nope")  # type: ignore[arg-type]


def test_adding_lists_each_message_once_per_channel(acme: object) -> None:
    design = add_out_of_scope(acme, ["will it  rain tomorrow", "what's the weather"], channel=WEB)  # type: ignore[arg-type]
    assert design.routing.out_of_scope == (
        OutOfScopeExample(text="will it rain tomorrow", channel=WEB),
        OutOfScopeExample(text="what's the weather", channel=WEB),
    )
    assert add_out_of_scope(design, ["Will it rain tomorrow"], channel=WEB) is design  # listed there, case aside
    everywhere = add_out_of_scope(design, ["book a flight", "book a flight"])
    assert everywhere.routing.out_of_scope[-1] == OutOfScopeExample(text="book a flight")
    assert len(everywhere.routing.out_of_scope) == 3
    assert add_out_of_scope(everywhere, ["book a flight"], channel="acme-ivr-stable") is everywhere  # covered
    assert listed(everywhere, "book a flight", "acme-ivr-stable") and not listed(everywhere, "hi", WEB)
    ivr = add_out_of_scope(everywhere, ["what's the weather"], channel="default/acme-ivr-stable")
    assert ivr.routing.out_of_scope[-1] == OutOfScopeExample(text="what's the weather", channel="acme-ivr-stable")
    with pytest.raises(EditError, match="must not be empty"):
        add_out_of_scope(acme, ["   "])  # type: ignore[arg-type]
    with pytest.raises(EditError, match=f"at most {MAX_OUT_OF_SCOPE}"):
        add_out_of_scope(acme, [f"message {i}" for i in range(MAX_OUT_OF_SCOPE + 1)])  # type: ignore[arg-type]


def test_removing_takes_a_message_from_one_channel_or_everywhere(acme: object) -> None:
    design = add_out_of_scope(acme, ["book a flight"], channel=WEB)  # type: ignore[arg-type]
    design = add_out_of_scope(design, ["book a flight"], channel="acme-ivr-stable")
    design = add_out_of_scope(design, ["order a pizza"])
    one = remove_out_of_scope(design, ["book a flight"], channel="default/acme-ivr-stable")
    assert [e.channel for e in one.routing.out_of_scope if e.text == "book a flight"] == [WEB]
    gone = remove_out_of_scope(design, ["Book  a flight", "order a pizza"])
    assert gone.routing.out_of_scope == ()
    with pytest.raises(EditError, match=r"does not list 'order a pizza' as out of scope for 'acme-ivr-stable'"):
        remove_out_of_scope(design, ["order a pizza"], channel="acme-ivr-stable")
    with pytest.raises(EditError, match="does not list 'hello'"):
        remove_out_of_scope(design, ["hello"])
    typo = design.replace(
        routing=design.routing.model_copy(update={"out_of_scope": (OutOfScopeExample(text="x", channel="wbe"),)})
    )
    with pytest.raises(EditError, match="does not list 'x' as out of scope for 'web'"):  # two unknown channels differ
        remove_out_of_scope(typo, ["x"], channel="web")
    assert remove_out_of_scope(typo, ["x"], channel="wbe").routing.out_of_scope == ()


def test_a_listed_message_is_answered_no_agent_afterwards(acme: object) -> None:
    query = "send me my payslip as a PDF"
    rows = [LabelledQuery(query, "", channel=WEB), LabelledQuery("show my bill", "billing-agent-stable", channel=WEB)]
    before = evaluate(acme, rows, router=EmbeddingRouter())  # type: ignore[arg-type]
    assert before.predictions[0].agent == "billing-agent-stable"  # answered: the page offers to list it
    assert evaluation_report(before)["missed_out_of_scope"] == [[query, WEB]]  # for the channel it was routed in
    design = add_out_of_scope(acme, [query], channel=WEB)  # type: ignore[arg-type]
    after = evaluate(design, rows, router=EmbeddingRouter())
    assert not after.predictions[0].agent and evaluation_report(after)["missed_out_of_scope"] == []


def test_edit_add_and_remove_out_of_scope_from_the_shell(tmp_path: Path) -> None:
    design = tmp_path / "acme"
    shutil.copytree(ACME, design)
    written = (design / "studio.yaml").read_text()
    code, out, err = cli("edit", "add-out-of-scope", str(design), "will it rain", "is it sunny", "--channel", WEB)
    assert code == 0, err
    assert f"listed 2 out-of-scope messages for {WEB}; wrote" in out
    text = (design / "studio.yaml").read_text()
    assert text.startswith(written.split("\n  routing:")[0].rstrip()[:200])  # the rest of the file as written
    assert "outOfScope:" in text and "- text: will it rain" in text and f"channel: {WEB}" in text
    code, out, _ = cli("edit", "add-out-of-scope", str(design), "will it rain", "--channel", WEB)
    assert code == 0 and "nothing written" in out and "1 already listed" in out
    csv = tmp_path / "oos.csv"
    csv.write_text(f"query,agent,channel\nshow my bill,billing-agent-stable,{WEB}\nhello there,,\nbook a cab,,{WEB}\n")
    code, out, err = cli("edit", "add-out-of-scope", str(design), "--from", str(csv))
    assert code == 0 and "listed 2 out-of-scope messages; wrote" in out, err
    examples = read_design(design).routing.out_of_scope
    assert OutOfScopeExample(text="hello there") in examples
    assert OutOfScopeExample(text="book a cab", channel=WEB) in examples
    code, out, err = cli("edit", "remove-out-of-scope", str(design), "hello there", "is it sunny")
    assert code == 0 and "removed 2 out-of-scope messages" in out, err
    assert len(read_design(design).routing.out_of_scope) == 2
    before = (design / "studio.yaml").read_bytes()
    for args, message in (
        (["remove-out-of-scope", str(design), "hello there"], "does not list 'hello there'"),
        (["add-out-of-scope", str(design), "x", "--channel", "nope"], "no channel 'nope'"),
        (["add-out-of-scope", str(design)], "give the messages to list"),
        (["add-out-of-scope", str(design), "x", "--channel", "web"], "'web' names 3 channels"),
    ):
        code, _, err = cli("edit", *args)
        assert code == 2 and message in err and "Traceback" not in err, (args, err)
    assert (design / "studio.yaml").read_bytes() == before  # a refused edit writes nothing


@pytest.fixture
def _page_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LMOS_STUDIO_DESIGN", raising=False)
    get_settings.cache_clear()


@pytest.mark.usefixtures("_page_env")
def test_the_playground_lists_a_message_as_out_of_scope_and_then_answers_no_agent() -> None:
    at = AppTest.from_file(str(ROOT / "app_pages" / "playground.py"), default_timeout=60)
    at.run()
    web = [o for o in at.multiselect(key="pg_channels").options if WEB in o]
    at.multiselect(key="pg_channels").set_value(web).run()
    query = "send me my payslip as a PDF"  # the billing agent answers it (a bill as a PDF)
    at.text_input(key="playground_query").input(query).run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success if "billing-agent-stable" in s.value] and not at.warning
    assert at.selectbox(key="new_oos_channel").options == [WEB, "every channel"]
    submit = next(b for b in at.button if b.label == "List as out of scope")
    submit.click().run()
    assert not at.exception, at.exception
    design = at.session_state["history"].present
    assert design.routing.out_of_scope[-1] == OutOfScopeExample(text=query, channel=WEB)
    assert at.session_state["history"].dirty
    assert not at.success and all(w.value.startswith("No agent of this channel would answer") for w in at.warning)
    assert any("1 message listed as out of scope" in c.value for c in at.caption), [c.value for c in at.caption]
    assert at.expander[-1].label == "Listed as out of scope (1)"
    at.multiselect(key="oos_remove_pick").set_value([f"{query}  ·  {WEB}"]).run()
    at.button(key="oos_remove").click().run()
    assert not at.exception, at.exception
    assert at.session_state["history"].present.routing.out_of_scope == ()
    assert [s.value for s in at.success if "billing-agent-stable" in s.value], "answered again"


@pytest.mark.usefixtures("_page_env")
def test_the_evaluate_page_lists_the_out_of_scope_rows_an_agent_answered() -> None:
    at = AppTest.from_file(str(ROOT / "app_pages" / "evaluate.py"), default_timeout=60)
    at.run()
    at.button(key="eval_run").click().run()
    assert not at.exception, at.exception
    buttons = [b for b in at.button if b.key and b.key.startswith("list_oos_")]
    assert buttons, "the sample set has an out-of-scope row the default router answers (recall 0.8 of 5)"
    assert buttons[0].label == "List it as out of scope"  # one row of the sample set: not "these 1"
    n = 1
    buttons[0].click().run()
    assert not at.exception, at.exception
    assert len(at.session_state["history"].present.routing.out_of_scope) == n
    at.button(key="eval_run").click().run()
    assert not [b for b in at.button if b.key and b.key.startswith("list_oos_")], "listed rows now answer no agent"


@pytest.mark.parametrize("router", ["embedding", "statistical"])
def test_a_query_rejected_for_a_listed_message_says_the_design_lists_it(acme: object, router: str) -> None:
    """Rejected because it is near a message the design lists, the reason called that message "a request for
    another service", as if it came from Studio's packaged list."""
    from lmos_studio.routing.base import route_fitted
    from lmos_studio.routing.statistical import StatisticalRouter
    from lmos_studio.routing.table import routing_table
    from lmos_studio.ui.routing import no_agent_text

    design = add_out_of_scope(acme, ["send me my payslip as a PDF"], channel=WEB)  # type: ignore[arg-type]
    fitted = (EmbeddingRouter() if router == "embedding" else StatisticalRouter()).fit(routing_table(design, WEB))
    again, near, packaged = route_fitted(
        fitted,
        ["Send me my  payslip as a PDF", "email me my payslip as a PDF please", "book a table for four at eight"],
    )
    assert again.rejected_by == "listed" and again.best is None and again.matches  # the listed message itself
    assert "the design lists this message as out of scope" in again.reason
    assert "lists this message as out of scope" in no_agent_text(again)
    assert again.with_threshold(0.0).best is not None  # --min-score: the fit rule only
    assert near.elsewhere_listed and not near.listed  # nearest to the listed message, not it
    if near.rejected_by == "elsewhere":
        assert 'nearer to a message the design lists as out of scope ("send me my payslip as a PDF")' in near.reason
        assert "the design lists as out of scope" in no_agent_text(near)
    if packaged.rejected_by == "elsewhere":
        assert not packaged.elsewhere_listed and "a request for another service" in packaged.reason


@pytest.mark.parametrize("router", ["statistical", "embedding"])
def test_a_listed_message_stays_no_agent_under_the_designs_min_score(acme: object, router: str) -> None:
    """With `minScore` set, a fresh statistical fit answered a listed message with an agent while the same fit
    loaded from the disk cache answered "listed" (eval gave recall 0.0, then 1.0); the embedding router
    dropped the list too. The design's list now holds under its threshold, fresh and stored alike."""
    from lmos_studio.routing import stored
    from lmos_studio.routing.base import route_fitted
    from lmos_studio.routing.statistical import StatisticalRouter
    from lmos_studio.routing.table import routing_table

    design = add_out_of_scope(acme, ["send me my payslip as a PDF"], channel=WEB)  # type: ignore[arg-type]
    design = design.replace(routing=design.routing.model_copy(update={"min_score": 0.05}))
    table = routing_table(design, WEB)
    fitted = (EmbeddingRouter() if router == "embedding" else StatisticalRouter()).fit(table)
    fitted_list = [fitted]
    if router == "statistical":
        state = stored.fitted_state(fitted)  # type: ignore[arg-type]
        assert state is not None
        fitted_list.append(stored.fitted_from_state(table, (), state))
    for each in fitted_list:
        listed_one, other = route_fitted(each, ["send me my payslip as a PDF", "show my bill"])
        assert listed_one.rejected_by == "listed" and listed_one.threshold == 0.05
        assert other.best is not None and other.elsewhere_limit is None  # minScore: no "nearer elsewhere"


def test_the_hybrid_router_does_not_ask_the_llm_about_a_listed_message(acme: object) -> None:
    from lmos_studio.routing.hybrid import FittedHybrid
    from lmos_studio.routing.table import routing_table

    class NoLlm:
        def route(self, query: str, *, among: object = None) -> object:
            raise AssertionError(f"the LLM was asked about {query!r}")

    design = add_out_of_scope(acme, ["send me my payslip as a PDF"], channel=WEB)  # type: ignore[arg-type]
    fast = EmbeddingRouter().fit(routing_table(design, WEB))
    hybrid = FittedHybrid(fast=fast, llm=NoLlm(), threshold=1.01)  # type: ignore[arg-type]  # every query below it
    (result,) = hybrid.route_batch(["send me my payslip as a PDF"])
    assert result.rejected_by == "listed" and result.best is None and result.matches


def test_edit_lists_only_the_out_of_scope_rows_a_router_answers(tmp_path: Path) -> None:
    """The Evaluate page's 'List these N as out of scope' from a shell: --from CSV --missed-by ROUTER."""
    design = tmp_path / "acme"
    shutil.copytree(ACME, design)
    queries = str(ROOT / "sample_networks" / "acme-queries.csv")
    code, out, err = cli("edit", "add-out-of-scope", str(design), "--from", queries, "--missed-by", "auto")
    assert code == 0, err
    listed_now = read_design(design).routing.out_of_scope
    assert len(listed_now) == 1 and "listed 1 out-of-scope message" in out  # the sample set: recall 0.8 of 5
    code, out, _ = cli("edit", "add-out-of-scope", str(design), "--from", queries, "--missed-by", "auto")
    assert code == 0 and "answers none of the 5 out-of-scope rows with an agent; nothing to list" in out
    code, _, err = cli("edit", "add-out-of-scope", str(design), "x", "--missed-by", "auto")
    assert code == 2 and "--missed-by needs --from CSV" in err


def test_edit_lists_csv_rows_by_the_channel_eval_routes_them_in(tmp_path: Path) -> None:
    """`eval` read the CSV's channel 'acme-web-stable' as default/acme-web-stable; `edit add-out-of-scope --from`
    refused the same file ("2 channels are named …")."""
    design = tmp_path / "acme"
    shutil.copytree(ACME, design)
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "query,agent,channel\nshow my bill,billing-agent-stable,acme-web-stable\ntell me a joke,,acme-web-stable\n"
    )
    assert cli("eval", str(design), str(rows), "--router", "statistical")[0] == 0
    code, out, err = cli("edit", "add-out-of-scope", str(design), "--from", str(rows))
    assert code == 0 and "listed 1 out-of-scope message" in out, err
    assert read_design(design).routing.out_of_scope == (OutOfScopeExample(text="tell me a joke", channel=WEB),)
