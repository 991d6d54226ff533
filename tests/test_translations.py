"""Every message id has every language, with the same placeholders, and renders in it."""

from __future__ import annotations

import string
from datetime import datetime, timezone

import pytest
import yaml
from babel import Locale

from actions.languages import DEFAULT, LANGUAGES
from actions.replies import (
    BUTTON_TITLES,
    LOCALES,
    MESSAGES,
    Money,
    render,
    say,
    template,
    translated_response,
    translations,
)
from tests.test_tracker_store import ROOT

OTHERS = [language for language in LANGUAGES if language != DEFAULT]
RESPONSES = yaml.safe_load((ROOT / "domain" / "responses.yml").read_text())["responses"]


def catalogue_ids() -> set[str]:
    """What a buyer can read: the catalogue, and Rasa's own responses by name."""
    return set(MESSAGES) | set(RESPONSES)


def placeholders(text: str) -> set[str]:
    return {field for _, field, spec, _ in string.Formatter().parse(text) if field is not None}


def texts_of(value: str | dict[str, str]) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def english(key: str) -> str:
    """The English text (its "other" form where the number changes the words)."""
    if key not in MESSAGES:
        return RESPONSES[key][0]["text"]
    text = MESSAGES[key]
    return text if isinstance(text, str) else text["other"]


@pytest.mark.parametrize("language", OTHERS)
def test_every_message_id_has_the_language(language):
    translated = set(translations(language))
    assert catalogue_ids() - translated == set(), f"missing in actions/locales/{language}.yml"
    assert translated - catalogue_ids() == set(), f"ids no longer in the catalogue in {language}.yml"


@pytest.mark.parametrize("language", OTHERS)
def test_a_translation_keeps_the_placeholders(language):
    wrong = {}
    for key, value in translations(language).items():
        for text in texts_of(value):
            if placeholders(text) != placeholders(english(key)):
                wrong[key] = (sorted(placeholders(text)), sorted(placeholders(english(key))))
    assert wrong == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_forms_are_the_languages_own(language):
    forms = set(Locale.parse(language).plural_form.tags) | {"other"}
    for key, value in translations(language).items():
        if isinstance(value, dict):
            assert set(value) <= forms and "other" in value, key


@pytest.mark.parametrize("language", OTHERS)
def test_no_translation_is_left_in_english(language):
    """A few ids may read the same (a name, a symbol); a whole sentence may not."""
    same = [
        key
        for key, value in translations(language).items()
        if isinstance(value, str) and value == english(key) and len(value.split()) > 2
    ]
    assert same == []


def test_the_locale_files_hold_nothing_else():
    assert sorted(path.stem for path in LOCALES.glob("*.yml")) == sorted(LANGUAGES)


WHEN = datetime(2026, 12, 2, 16, 51, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("language", "when", "money"),
    [
        ("en", "Wed 02 Dec 2026, 16:51 UTC", "$4.99"),
        ("es", "mié 02 dic 2026, 16:51 UTC", "4,99\xa0US$"),
        ("pt", "qua. 02 dez. 2026, 16:51 UTC", "US$\xa04,99"),
        ("fr", "mer. 02 déc. 2026, 16:51 UTC", "4,99\xa0$US"),
        ("ru", "ср 02 дек. 2026, 16:51 UTC", "4,99\xa0$"),
    ],
)
def test_dates_and_money_follow_the_locale(language, when, money):
    assert template("followup.expired", "en")  # the message exists
    rendered = render(say("followup.expired", seller="S", order="O", age=50, deadline=WHEN), language)
    assert when in rendered
    assert money in render(say("refund.of_cancelled", amount=Money(4.99, "USD"), state="x"), language)


def test_russian_counts_take_their_plural_form():
    days = {count: render(say("duration.days", count=count), "ru") for count in (2, 5, 21)}
    assert len(set(day.split()[1] for day in days.values())) == 3, days


def test_rasas_buttons_are_the_catalogues_messages():
    for name, (response, *_) in RESPONSES.items():
        for button in response.get("buttons", []):
            assert MESSAGES[BUTTON_TITLES[button["payload"]]] == button["title"], name


@pytest.mark.parametrize("language", OTHERS)
def test_rasas_responses_come_out_translated(language):
    greet = RESPONSES["utter_greet"][0]
    translated = translated_response("utter_greet", greet, language)
    assert translated["text"] == translations(language)["utter_greet"] != greet["text"]
    assert [button["payload"] for button in translated["buttons"]] == [b["payload"] for b in greet["buttons"]]
    assert all(b["title"] != e["title"] for b, e in zip(translated["buttons"], greet["buttons"], strict=True))


def test_the_widgets_words_are_built_from_the_catalogue():
    from scripts.build_widget_locales import OUTPUT, locales_js

    assert OUTPUT.read_text(encoding="utf-8") == locales_js(), "run scripts/build_widget_locales.py"
