"""Rasa's own responses come out in the conversation's language (addons/nlg.py), as the
Rasa server builds the generator from endpoints.yml."""

from __future__ import annotations

import pytest
from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import read_endpoint_config

from actions.replies import translations
from addons.nlg import CatalogueNaturalLanguageGenerator
from tests.test_tracker_store import ROOT

DOMAIN = Domain.load(str(ROOT / "domain"))


@pytest.fixture
def nlg(monkeypatch) -> NaturalLanguageGenerator:
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "not-used-here")  # endpoints.yml names it
    generator = NaturalLanguageGenerator.create(read_endpoint_config(str(ROOT / "endpoints.yml"), "nlg"), DOMAIN)
    assert isinstance(generator, CatalogueNaturalLanguageGenerator)
    return generator


@pytest.mark.parametrize(
    ("slots", "language"),
    [
        ({"language": "es"}, "es"),
        ({"language": None, "language_hint": "fr"}, "fr"),
        ({"language": "ru", "language_hint": "pt"}, "ru"),
    ],
)
def test_a_response_in_the_conversations_language(nlg, slots, language):
    response = nlg.generate_from_slots("utter_greet", slots, "rest")
    english = DOMAIN.responses["utter_greet"][0]
    assert response["text"] == translations(language)["utter_greet"]
    assert [b["payload"] for b in response["buttons"]] == [b["payload"] for b in english["buttons"]]
    assert all(b["title"] != e["title"] for b, e in zip(response["buttons"], english["buttons"], strict=True))


def test_english_by_default(nlg):
    response = nlg.generate_from_slots("utter_ask_email", {}, "rest")
    assert response["text"] == DOMAIN.responses["utter_ask_email"][0]["text"]


def test_an_unknown_response_is_none(nlg):
    assert nlg.generate_from_slots("utter_nothing_like_this", {"language": "es"}, "rest") is None
