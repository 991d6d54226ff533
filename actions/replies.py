"""The catalogue: every sentence the action server and the channels show a buyer (or send
for the buyer), keyed by message id, with named parameters, and how it is rendered. What
Rasa utters by itself (``utter_*``) is in ``domain/responses.yml``, translated under the
response's name (addons/nlg.py); the reason labels shared by both are checked equal by
``tests/test_vocabulary.py``.

Rules and services return :class:`Say` (a message id and its parameters), never text;
:func:`render` turns them into text. Placeholders take format specs for our own types:
``{when:when}`` and ``{date:day}`` for datetimes, ``{hours:duration}`` for a number of hours,
``{amount:money}`` for :class:`Money`. A parameter may itself be a ``Say`` (rendered first) or a
list of them (joined with "; ").

The sentences are in ``actions/locales``: English in ``en.yml``, Spanish, Portuguese, French
and Russian under the same ids (``tests/test_translations.py`` fails when one lacks an id). A message is
rendered in the conversation's language (:data:`LANGUAGE`, set per action call by the action
server from the tracker's slots) with dates, times and numbers formatted by Babel (CLDR).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from actions.languages import DEFAULT, LANGUAGES
from actions.vocabulary import Reason

LOCALES = Path(__file__).parent / "locales"
# The language of the conversation being answered: each action call sets it (actions/server.py).
LANGUAGE: ContextVar[str] = ContextVar("language", default=DEFAULT)


@dataclass(frozen=True)
class Say:
    """A message to show: its id in :data:`MESSAGES` and its parameters."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


def say(key: str, **params: Any) -> Say:
    if key not in MESSAGES:
        raise KeyError(f"no message {key!r} in the catalogue")
    return Say(key, params)


@dataclass(frozen=True)
class Money:
    amount: float
    currency: str = "USD"


# Times are shown in UTC: the buyer, the seller and support read the same moment. CLDR
# patterns: "Tue 01 Dec 2026, 16:51 UTC", "mar 01 dic 2026, 16:51 UTC".
WHEN_PATTERN = "EEE dd MMM y, HH:mm"
DAY_PATTERN = "dd MMM y"


def _read_locale(language: str) -> dict[str, Any]:
    return yaml.safe_load((LOCALES / f"{language}.yml").read_text(encoding="utf-8")) or {}


# A message is a text, or, where a number changes the words ("1 week", "2 weeks"; "1 час",
# "2 часа", "5 часов"), one text per CLDR plural category of its first whole-number parameter.
Translation = str | dict[str, str]


def _messages(language: str) -> dict[str, Translation]:
    return {
        str(key): {str(form): str(text) for form, text in value.items()} if isinstance(value, dict) else str(value)
        for key, value in _read_locale(language).items()
    }


# English, the catalogue every other language follows (actions/locales/en.yml).
MESSAGES: dict[str, Translation] = _messages(DEFAULT)


@cache
def translations(language: str) -> Mapping[str, Translation]:
    """Every message id's text in `language` (English: :data:`MESSAGES`)."""
    if language == DEFAULT:
        return MESSAGES
    if language not in LANGUAGES:
        raise KeyError(f"no language {language!r}")
    return _messages(language)


def language_now(language: str | None = None) -> str:
    return language or LANGUAGE.get()


def template(key: str, language: str | None = None, params: Mapping[str, Any] | None = None) -> str:
    """The message's text in the language; English where a translation is missing (a test
    fails on that, so it happens only in a build that skipped the tests)."""
    language = language_now(language)
    found = translations(language).get(key) or MESSAGES[key]
    if isinstance(found, str):
        return found
    number = next((value for value in (params or {}).values() if isinstance(value, int)), 0)
    return found.get(Locale.parse(language).plural_form(number)) or found["other"]


def reason_label(reason: Reason, language: str | None = None) -> str:
    return template(f"reason.{reason.value}", language)


def describe_duration(hours: float, language: str | None = None) -> str:
    if hours < 1:
        return render(say("duration.under_hour"), language)
    if hours < 48:
        whole = int(hours)
        return render(say("duration.one_hour") if whole == 1 else say("duration.hours", count=whole), language)
    return render(say("duration.days", count=int(hours // 24)), language)


_DECIMALS = re.compile(r"^\.(\d)f$")


class _Formatter(string.Formatter):
    """str.format with our specs, in one language's conventions (CLDR, through Babel)."""

    def __init__(self, language: str) -> None:
        super().__init__()
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> Any:
        locale = self.language
        if format_spec == "when" and isinstance(value, datetime):
            return format_datetime(value, WHEN_PATTERN, locale=locale) + " UTC"
        if format_spec == "day" and isinstance(value, datetime):
            return format_date(value, DAY_PATTERN, locale=locale)
        if format_spec == "duration":
            return describe_duration(float(value), self.language)
        if format_spec == "money" and isinstance(value, Money):
            return format_currency(value.amount, value.currency, locale=locale)
        if (decimals := _DECIMALS.match(format_spec)) and isinstance(value, int | float):
            places = int(decimals.group(1))
            return format_decimal(round(value, places), "#,##0" + ("." + "0" * places if places else ""), locale=locale)
        return super().format_field(value, format_spec)


_SHARED = {"dispute_steps": "steps.dispute", "contact_steps": "steps.contact"}


def _value(value: Any, language: str) -> Any:
    if isinstance(value, Say):
        return render(value, language)
    if isinstance(value, list | tuple) and all(isinstance(item, Say) for item in value):
        return "; ".join(render(item, language) for item in value)
    return "" if value is None else value


def render(message: Say, language: str | None = None) -> str:
    """The text of one message, in `language` or the conversation's."""
    language = language_now(language)
    text = template(message.key, language, message.params)
    params = {name: _value(value, language) for name, value in message.params.items()}
    for name, key in _SHARED.items():
        if "{" + name + "}" in text and name not in params:
            params[name] = template(key, language)
    return _Formatter(language).format(text, **params)


def render_all(messages: Iterable[Say], language: str | None = None) -> str:
    """Several messages as one paragraph."""
    return " ".join(render(message, language) for message in messages)


# The catalogue message each button payload of domain/responses.yml shows as its title
# (tests/test_translations.py checks the English titles are these messages).
BUTTON_TITLES: dict[str, str] = {
    "/cancel_order": "button.cancel_order",
    "/check_order_status": "button.where_is_order",
    "/contact_seller": "button.contact_seller",
    "/human_handoff": "button.talk_to_person",
    **{f"/{reason.intent}": f"reason.{reason.value}" for reason in Reason},
}


def translated_response(name: str, response: dict[str, Any], language: str) -> dict[str, Any]:
    """One of Rasa's responses (domain/responses.yml) with its text and button titles in
    `language`; the text is the catalogue's entry under the response's name."""
    translated = dict(response)
    if response.get("text"):
        translated["text"] = str(translations(language).get(name) or response["text"])
    if response.get("buttons"):
        translated["buttons"] = [
            {**button, "title": template(BUTTON_TITLES[button["payload"]], language)}
            if button.get("payload") in BUTTON_TITLES
            else button
            for button in response["buttons"]
        ]
    return translated
