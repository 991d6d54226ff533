"""Which language a buyer writes in, the channel's hint, and the answers' language."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.languages import channel_hint, conversation_language, from_hint, identify
from addons.language_identifier import LanguageIdentifier

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I want to cancel my order", "en"),
        ("where is my package", "en"),
        ("my email is ana.lopez@gmail.com", "en"),
        ("quiero cancelar mi pedido", "es"),
        ("cancela el 8100000000000002, lo pedí dos veces", "es"),
        ("¿Dónde está mi pedido?", "es"),
        ("el vendedor no responde", "es"),
        ("gracias", "es"),
        ("quero cancelar meu pedido", "pt"),
        ("quero cancelar", "pt"),  # lingua alone says Spanish
        ("o vendedor não responde", "pt"),
        ("obrigado", "pt"),
        ("je veux annuler ma commande", "fr"),
        ("Où est ma commande ?", "fr"),
        ("merci", "fr"),
        ("хочу отменить заказ", "ru"),
        ("да", "ru"),
        ("hochu otmenit zakaz", "ru"),  # Russian in Latin letters: lingua alone says English
        # too little to tell: the conversation keeps its language
        ("ok", None),
        ("no", None),
        ("8100 0000 0000 0002", None),
        ("ana@gmail.com", None),
        ("cancelar pedido", None),  # Spanish and Portuguese alike
        ("👍", None),
        ("", None),
    ],
)
def test_a_message_names_its_language_only_when_it_says_enough(text, language):
    assert identify(text) == language


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("es-ES", "es"),
        ("pt_BR", "pt"),
        ("FR", "fr"),
        ("ru", "ru"),
        ("en-GB", "en"),
        ("de-DE", None),
        ("", None),
        (None, None),
    ],
)
def test_a_channels_tag_is_one_of_our_languages_or_nothing(tag, language):
    assert from_hint(tag) == language


def test_the_hint_comes_from_the_widget_or_telegram():
    assert channel_hint({"language": "es-419"}) == "es"
    assert channel_hint({"language_code": "pt-br", "customer_token": "x"}) == "pt"
    assert channel_hint({"language": "ja"}) is None
    assert channel_hint("not metadata") is None


@pytest.mark.parametrize(
    ("slots", "language"),
    [
        ({"language": "fr", "language_hint": "es"}, "fr"),  # the buyer's words win
        ({"language": None, "language_hint": "es"}, "es"),
        ({"language": "xx", "language_hint": None}, "en"),  # never a language we do not speak
        ({}, "en"),
    ],
)
def test_the_answers_follow_the_buyer_then_the_hint_then_english(slots, language):
    assert conversation_language(slots) == language


def parsed(text: str, metadata: dict | None = None) -> list[dict]:
    message = Message(data={TEXT: text, "metadata": metadata})
    LanguageIdentifier().process([message])
    return [(e["entity"], e["value"]) for e in message.get(ENTITIES, [])]


def test_the_nlu_component_adds_the_language_and_the_hint_as_entities():
    assert parsed("quiero cancelar mi pedido", {"language": "en-US"}) == [("language", "es"), ("language_hint", "en")]
    assert parsed("ok") == []  # the slot keeps the conversation's language
    assert parsed("/affirm", {"language": "fr"}) == [("language_hint", "fr")]  # a button says nothing
    assert parsed("ok", {"language": "de"}) == []


@pytest.mark.parametrize(
    ("text", "metadata", "sent"),
    [
        ("/cancel_order", {"language": "es-ES"}, '/cancel_order{"language_hint": "es"}'),
        ("/affirm", {"language_code": "ru"}, '/affirm{"language_hint": "ru"}'),
        ("/cancel_order", {"language": "de"}, "/cancel_order"),  # not one of ours
        ("/cancel_order", None, "/cancel_order"),
        ('/inform{"order_id": "8100000000000002"}', {"language": "fr"}, '/inform{"order_id": "8100000000000002"}'),
        ("quiero cancelar", {"language": "en"}, "quiero cancelar"),  # words: the NLU component reads them
    ],
)
def test_a_buttons_payload_carries_the_channels_hint(text, metadata, sent):
    from channels.guard import with_language_hint

    assert with_language_hint(text, metadata) == sent


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ('/affirm{"language_hint": "es"}', "/affirm"),
        ("/affirm", "/affirm"),
        ('/inform{"order_id": "8100000000000002"}', '/inform{"order_id": "8100000000000002"}'),  # the buyer's
        ('quiero {"language_hint": "es"}', 'quiero {"language_hint": "es"}'),  # typed, kept as typed
    ],
)
def test_a_transcript_shows_the_button_press_without_the_channels_hint(stored, shown):
    from actions.languages import as_pressed

    assert as_pressed(stored) == shown


def test_the_language_report_splits_the_folds_predictions_where_the_nlu_report_writes_them(tmp_path, monkeypatch):
    """The report's cross-validation columns stayed empty: it read another folder."""
    import json

    from scripts import language_report, nlu_report

    monkeypatch.setattr(nlu_report, "CROSS_VALIDATION", tmp_path)
    assert language_report.cross_validation_by_language() is None
    spanish = next(text for _, text in language_report.examples(ROOT / "data/nlu/es/chitchat.yml"))
    predictions = [
        {"fold": 0, "text": spanish, "intent": "greet", "predicted": "greet"},
        {"fold": 0, "text": "I want to cancel my order", "intent": "cancel_order", "predicted": "ask_refund"},
    ]
    (tmp_path / "predictions.json").write_text(json.dumps(predictions))
    split = language_report.cross_validation_by_language()
    assert split["es"]["messages"] == 1 and split["es"]["accuracy"] == 1.0
    assert split["en"]["messages"] == 1 and split["en"]["accuracy"] == 0.0
