"""Rasa's own responses (domain/responses.yml) in the conversation's language.

Rasa utters ``utter_*`` responses itself: the greeting, the form's questions, "Sorry, I can't
help with that". This generator picks the response as Rasa's does, then takes its text from
the catalogue's translations (``actions/locales/<language>.yml``, under the response's name)
and each button's title from the catalogue message its payload names
(:data:`actions.replies.BUTTON_TITLES`). Payloads do not change with the language. Enabled in
endpoints.yml with ``nlg: type: addons.nlg.CatalogueNaturalLanguageGenerator``.
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from actions.languages import DEFAULT, conversation_language
from actions.replies import translated_response


class CatalogueNaturalLanguageGenerator(TemplatedNaturalLanguageGenerator):
    def __init__(self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None) -> None:
        super().__init__((domain or Domain.empty()).responses)

    def generate_from_slots(
        self, utter_action: str, filled_slots: dict[str, Any], output_channel: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        response = super().generate_from_slots(utter_action, filled_slots, output_channel, **kwargs)
        language = conversation_language(filled_slots)
        if response is None or language == DEFAULT:
            return response
        return translated_response(utter_action, response, language)
