"""The lexicon policy (`spec.routing.lexicon`: auto | customer-service | none): the auto choice on toy designs
each way, explicit values, bad values (exit 2 naming the field), the choice in route/eval output; and how
class probabilities become ranked agents and capabilities (`rank_agents`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from lmos_studio.errors import DesignFileError, RoutingError
from lmos_studio.formats.design_file import design_from_text, design_to_yaml
from lmos_studio.model import Agent, Capability, Design, RoutingSettings
from lmos_studio.routing.base import Candidate, RoutingTable
from lmos_studio.routing.embedding import EmbeddingRouter
from lmos_studio.routing.evaluate import evaluate
from lmos_studio.routing.labelled import LabelledQuery
from lmos_studio.routing.lexicon import (
    COVERAGE_MIN,
    Held,
    check_lexicon,
    choose_lexicon,
    held_out_checks,
    lexicon_coverage,
)
from lmos_studio.routing.statistical import StatisticalRouter, held_out_correct, held_out_scores
from lmos_studio.routing.table import routing_table
from lmos_studio.routing.text import lexicon_for
from lmos_studio.routing.training import rank_agents, training_set
from tests.conftest import run_cli


class HashEmbedder:
    """A deterministic stand-in embedder (hashed words), so the test needs no model."""

    name = "hash"

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, hash(word) % 64] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.where(norms == 0, 1.0, norms), dtype=np.float32)


SHOP = {  # an online shop's customer service: the lexicon's own domain
    "order-agent": {
        "cancel_order": ("Cancels an order.", ["cancel my order", "I want to call off my purchase", "stop my order"]),
        "track_order": (
            "Tracks where a parcel is.",
            ["where is my package", "track my delivery", "has my parcel shipped"],
        ),
        "change_address": (
            "Changes the delivery address.",
            ["change my shipping address", "deliver to my new home", "update the address"],
        ),
    },
    "billing-agent": {
        "get_refund": ("Refunds money for an order.", ["I want my money back", "refund please", "reimburse me"]),
        "get_invoice": ("Sends the invoice of an order.", ["send me the bill", "I need my receipt", "invoice as pdf"]),
        "payment_problem": (
            "Helps when a payment failed.",
            ["my card was declined", "payment failed", "I was charged twice"],
        ),
    },
}
CLINIC = {  # a hospital front desk: another domain
    "ward-agent": {
        "visiting_hours": (
            "Gives the visiting hours of a ward.",
            ["visiting hours on ward 7", "visitors allowed today"],
        ),
        "ward_directions": ("Directions to a ward inside the hospital.", ["which floor is maternity", "find ward 12"]),
    },
    "pharmacy-agent": {
        "repeat_prescription": ("Renews a repeat prescription.", ["renew my prescription", "more inhaler tablets"]),
        "medicine_question": ("Answers questions on medicines.", ["ibuprofen with antibiotics", "dizzy on tablets"]),
    },
}


def design(
    spec: dict[str, dict[str, tuple[str, list[str]]]], *, examples: bool = True, lexicon: str = "auto"
) -> Design:
    agents = tuple(
        Agent(
            name=agent,
            capabilities=tuple(
                Capability(name=cap, version="1.0.0", description=text, examples=tuple(ex) if examples else ())
                for cap, (text, ex) in caps.items()
            ),
        )
        for agent, caps in spec.items()
    )
    return Design(name="toy", agents=agents, routing=RoutingSettings.model_validate({"lexicon": lexicon}))


def choice_of(d: Design):  # type: ignore[no-untyped-def]
    return StatisticalRouter().fit(routing_table(d, None)).lexicon_choice


def test_auto_keeps_the_lexicon_in_its_customer_service_domain() -> None:
    choice = choice_of(design(SHOP))
    assert choice.setting == "auto" and choice.used
    assert choice.coverage is not None and choice.coverage >= COVERAGE_MIN
    assert choice.with_lexicon is not None and choice.without_lexicon is not None
    assert choice.with_lexicon >= choice.without_lexicon and choice.n >= 6  # the held-out check ran
    assert choice.describe().startswith("lexicon: on (auto: ")


def test_auto_turns_the_lexicon_off_in_another_domain() -> None:
    choice = choice_of(design(CLINIC))
    assert choice.setting == "auto" and not choice.used
    assert choice.coverage is not None and choice.coverage < COVERAGE_MIN
    assert "not its customer-service domain" in choice.describe() and choice.describe().startswith("lexicon: off")


def test_auto_judges_a_zero_shot_channel_on_its_names_and_descriptions() -> None:
    shop = choice_of(design(SHOP, examples=False))
    assert shop.used and shop.n == 12  # 6 descriptions among names, 6 names among descriptions
    assert not choice_of(design(CLINIC, examples=False)).used


def test_auto_turns_the_lexicon_off_where_it_hurts_held_out_accuracy() -> None:
    # In its domain the held-out check decides: fewer right answers with the lexicon than without → off.
    def worse_with_it(table: RoutingTable, seed: list[Held], held: list[Held], settings: tuple[str, ...]) -> list[int]:
        rights = zip(settings, held_out_scores(table, seed, held, settings), strict=True)
        return [right - len(held) if setting == "customer-service" else right for setting, right in rights]

    _, choice = choose_lexicon(training_set(routing_table(design(SHOP), None)), "auto", worse_with_it)
    assert choice.coverage is not None and choice.coverage >= COVERAGE_MIN
    assert choice.with_lexicon is not None and choice.without_lexicon is not None
    assert choice.with_lexicon < choice.without_lexicon and not choice.used
    assert "it hurt held-out accuracy" in choice.describe() and choice.describe().startswith("lexicon: off")


@pytest.mark.parametrize(("setting", "used"), [("customer-service", True), ("none", False)])
def test_explicit_settings_win_over_auto(setting: str, used: bool) -> None:
    for d in (design(SHOP, lexicon=setting), design(CLINIC, lexicon=setting)):
        choice = choice_of(d)
        assert choice.setting == setting and choice.used is used and choice.coverage is None
        assert choice.describe() == f"lexicon: {'on' if used else 'off'} (spec.routing.lexicon: {setting})"


def test_a_router_argument_overrides_the_design() -> None:
    table = routing_table(design(CLINIC), None)
    assert StatisticalRouter(lexicon=True).fit(table).lexicon_choice.used  # the older boolean form
    assert not StatisticalRouter(lexicon=False).fit(table).lexicon_choice.used
    assert StatisticalRouter(lexicon="customer-service").fit(table).lexicon_choice.setting == "customer-service"
    fitted = EmbeddingRouter(embedder=HashEmbedder(), lexicon="none").fit(table)
    assert fitted.lexicon_choice.setting == "none" and not fitted.lexicon_choice.used


def test_the_chosen_lexicon_is_the_one_the_router_uses() -> None:
    data = training_set(routing_table(design(SHOP), None))
    lexicon, choice = choose_lexicon(data, "auto", held_out_scores)
    assert choice.used and lexicon.concepts("money back")  # the customer-service groups are in
    lexicon, choice = choose_lexicon(data, "none", held_out_scores)
    assert not choice.used and not lexicon.concepts("money back")
    assert lexicon_coverage(training_set(RoutingTable(channel="", candidates=(Candidate("a", "it"),)))) is None


def test_the_check_s_fits_of_a_fold_share_their_char_part_and_score_as_fitted_alone() -> None:
    """`held_out_scores` fits each setting with the char n-gram part of the first fit (it reads no lexicon):
    the same right answers as a fit of its own per setting (`held_out_correct`), in either order."""
    for d in (SHOP, CLINIC):
        data = training_set(routing_table(design(d), None))
        for table, seed, held in held_out_checks(data):
            alone = [held_out_correct(table, seed, held, s) for s in ("customer-service", "none")]
            assert held_out_scores(table, seed, held, ("customer-service", "none")) == alone
            assert held_out_scores(table, seed, held, ("none", "customer-service")) == alone[::-1]


@pytest.mark.parametrize("vocabulary", [(), (("cover", "insurance", "policy"),)])
def test_the_coverage_counted_from_the_word_features_is_the_word_count(vocabulary: tuple[tuple[str, ...], ...]) -> None:
    """`choose_lexicon` counts the coverage from the router's word features (with the lexicon, plus a design's
    vocabulary): the same share as `text.words` per text, on each toy design and on texts with stop words only,
    numbers, punctuation, two-word phrases and repeats."""
    odd = ["the and of it", "I'm 42 — refund?? refund!", "money back, money back", "", "Cancel-my {{order}}"]
    for table in [routing_table(design(d), None) for d in (SHOP, CLINIC)]:
        data = training_set(table, [(t, table.candidates[0].agent, table.candidates[0].capability) for t in odd])
        read = lexicon_for(vocabulary, builtin=True).word_features
        assert lexicon_coverage(data, read=read) == lexicon_coverage(data) is not None


@pytest.mark.parametrize("value", ["maybe", "", "CS", 1])
def test_bad_settings_are_refused_naming_the_field(value: object) -> None:
    with pytest.raises(RoutingError, match=r"--lexicon is .*; use one of: auto, customer-service, none"):
        check_lexicon(value)
    assert check_lexicon(" None ") == "none"


STUDIO = "apiVersion: studio.lmos.eclipse/v1alpha1\nkind: StudioDesign\nmetadata: {name: toy}\nspec:\n  routing:\n"


def test_the_design_file_reads_writes_and_refuses_the_setting(tmp_path: Path) -> None:
    d = design_from_text(STUDIO + "    lexicon: none\n").design
    assert d.routing.lexicon == "none" and routing_table(d, None).lexicon == "none"
    assert design_from_text(design_to_yaml(d)).design.routing.lexicon == "none"
    assert "lexicon" not in design_to_yaml(Design(name="plain"))  # the default (auto) is not written
    with pytest.raises(DesignFileError, match=r"spec\.routing\.lexicon"):
        design_from_text(STUDIO + "    lexicon: sometimes\n", path="toy.yaml")
    path = tmp_path / "toy.yaml"
    path.write_text(STUDIO + "    lexicon: sometimes\n")
    result = run_cli("route", str(path), "where is my parcel")
    assert result.returncode == 2 and "toy.yaml" in result.stderr and "spec.routing.lexicon" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_lexicon_flag_and_the_choice_in_route_and_eval_output(tmp_path: Path) -> None:
    path = tmp_path / "clinic.yaml"
    path.write_text(design_to_yaml(design(CLINIC)))
    routed = run_cli("route", str(path), "-r", "statistical", "-o", "json", "renew my prescription")
    assert routed.returncode == 0, routed.stderr
    data = json.loads(routed.stdout)["lexicon"]
    assert data["setting"] == "auto" and data["used"] is False and data["coverage"] < COVERAGE_MIN
    assert data["summary"].startswith("lexicon: off (auto: ")
    forced = run_cli("route", str(path), "-r", "statistical", "--lexicon", "customer-service", "renew my prescription")
    assert json.loads(forced.stdout)["lexicon"]["used"] is True
    table = run_cli("route", str(path), "-r", "statistical", "-o", "table", "renew my prescription")
    assert "lexicon: off (auto: " in table.stdout
    queries = tmp_path / "q.csv"
    queries.write_text("query,agent\nrenew my prescription,pharmacy-agent\n")
    evaluated = run_cli("eval", str(path), str(queries), "-r", "statistical", "--lexicon", "none")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["lexicon"] == {"": "lexicon: off (spec.routing.lexicon: none)"}
    bad = run_cli("eval", str(path), str(queries), "--lexicon", "maybe")
    assert bad.returncode == 2 and "--lexicon is 'maybe'" in bad.stderr and "Traceback" not in bad.stderr


def test_evaluate_reports_the_choice_per_channel() -> None:
    run = evaluate(
        design(SHOP), [LabelledQuery(text="refund please", agent="billing-agent", line=2)], router=StatisticalRouter()
    )
    assert run.lexicon[""].startswith("lexicon: on (auto: ") and run.to_dict()["lexicon"] == run.lexicon


def test_rank_agents_sums_an_agents_capabilities_and_reports_its_best_known_one() -> None:
    table = RoutingTable(
        channel="",
        candidates=(Candidate("a", "x"), Candidate("a", "y"), Candidate("b", "z")),
    )
    data = training_set(table, seed=[("hello", "a", "seed-only")])  # a class of a the table does not know
    scores = np.array([0.25, 0.2, 0.35, 0.2])  # classes: (a,x) (a,y) (b,z) (a,seed-only)
    matches = rank_agents(data, scores, top_k=2)
    assert [m.agent for m in matches] == ["a", "b"] and matches[0].score == pytest.approx(0.65)
    assert matches[0].capability == "x"  # the seed-only class adds to a's score but is never reported
    assert matches[1].capability == "z" and matches[1].score == pytest.approx(0.35)
