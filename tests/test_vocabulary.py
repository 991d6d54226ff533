"""The domain's terms have one source (actions/vocabulary.py): the Rasa domain, the training
data, the demo data and the wording catalogue must name exactly the same reasons, goals,
offers and states. Adding a reason in one place only fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions.demo_data import demo_data
from actions.replies import MESSAGES, reason_label
from actions.vocabulary import Goal, Offer, OrderStatus, Reason, RequestState

ROOT = Path(__file__).resolve().parents[1]
REASON_INTENTS = {reason.intent for reason in Reason}


def load_all(folder: str) -> list[dict]:
    return [yaml.safe_load(path.read_text()) or {} for path in sorted((ROOT / folder).rglob("*.yml"))]


def merged(folder: str, key: str) -> dict | list:
    parts = [part.get(key) for part in load_all(folder) if part.get(key)]
    if parts and isinstance(parts[0], dict):
        return {name: value for part in parts for name, value in part.items()}
    return [item for part in parts for item in part]


SLOTS = merged("domain", "slots")
RESPONSES = merged("domain", "responses")


def intents_named(steps: list) -> set[str]:
    """Every intent a rule or story step names, also inside `or:` blocks."""
    found: set[str] = set()
    for step in steps or []:
        if "intent" in step:
            found.add(step["intent"])
        found |= intents_named(step.get("or", []))
    return found


def test_domain_declares_one_intent_per_reason():
    declared = {intent for intent in merged("domain", "intents") if intent.startswith("reason_")}
    assert declared == REASON_INTENTS


def test_reason_slot_values_and_mappings_are_the_reasons():
    reason = SLOTS["reason"]
    assert set(reason["values"]) == {r.value for r in Reason}
    mapped = {m["intent"]: m["value"] for m in reason["mappings"] if m["type"] == "from_intent"}
    assert mapped == {r.intent: r.value for r in Reason}


def test_goal_slot_values_are_the_goals_and_every_reason_means_cancel():
    goal = SLOTS["goal"]
    assert set(goal["values"]) == {g.value for g in Goal}
    cancel = next(m for m in goal["mappings"] if m["value"] == Goal.CANCEL.value)
    assert set(cancel["intent"]) >= REASON_INTENTS


def test_reason_buttons_offer_every_reason_with_the_catalogue_label():
    (variant,) = RESPONSES["utter_ask_reason"]
    buttons = {b["payload"]: b["title"] for b in variant["buttons"]}
    assert buttons == {f"/{r.intent}": reason_label(r) for r in Reason}


def test_every_reason_has_a_label_and_a_sentence_for_the_seller():
    for reason in Reason:
        assert f"reason.{reason.value}" in MESSAGES
        assert f"reason_sentence.{reason.value}" in MESSAGES
    for key in MESSAGES:
        if key.startswith(("reason.", "reason_sentence.")):
            assert Reason.parse(key.split(".", 1)[1]) is not None, key


def test_rules_start_the_form_for_every_reason():
    rules = merged("data", "rules")
    starting = [rule for rule in rules if rule.get("steps", [{}])[-1].get("active_loop") == "order_form"]
    named = set().union(*(intents_named(rule["steps"]) for rule in starting))
    assert named >= REASON_INTENTS


def test_training_data_has_examples_for_every_reason_and_no_other():
    nlu = merged("data", "nlu")
    trained = {item["intent"] for item in nlu if "intent" in item and item["intent"].startswith("reason_")}
    assert trained == REASON_INTENTS


def test_demo_data_uses_known_states_and_reasons():
    data = demo_data()
    defaults = data["order_defaults"]
    for order in data["orders"]:
        OrderStatus(order.get("status", defaults["status"]))
    for request in data["cancellation_requests"]:
        RequestState(request["state"])
        Reason(request["reason"])


def test_pending_offer_slot_is_documented_with_the_offer_kinds():
    text = (ROOT / "domain" / "slots.yml").read_text()
    line = next(line for line in text.splitlines() if "The write waiting for the buyer's yes" in line)
    assert {o.value for o in Offer if o is not Offer.NONE} == {v.strip(" .") for v in line.split(":", 1)[1].split(",")}


@pytest.mark.parametrize("value", ["", None, "nonsense", "CANCEL"])
def test_slot_values_from_outside_never_raise(value):
    assert Reason.parse(value) is None


def test_every_offer_can_be_asked_again_briefly():
    assert {key.split(".", 2)[2] for key in MESSAGES if key.startswith("ask.again.")} == {
        offer.value for offer in Offer if offer is not Offer.NONE
    }
