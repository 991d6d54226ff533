"""The NLU component that tells which language a message is written in (actions/languages.py).

It adds two entities, which fill the slots of the same names (domain/slots.yml) and do not
influence the dialogue policies (domain/intents.yml):
- ``language`` when the message says enough to tell ("quiero cancelar" does, "sí" does not,
  and then the conversation keeps the language it had);
- ``language_hint`` from the channel's metadata: the chat widget sends the browser's
  language, Telegram the user's ``language_code``.
Answers follow ``language``, else ``language_hint``, else English.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.languages import HINT_SLOT, LANGUAGE_SLOT, channel_hint, identify

METADATA = "metadata"


def entity(name: str, value: str, text: str) -> dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": len(text), "extractor": "LanguageIdentifier"}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageIdentifier(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageIdentifier:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            found = []
            if not text.startswith("/") and (language := identify(text)):
                found.append(entity(LANGUAGE_SLOT, language, text))
            if hint := channel_hint(message.get(METADATA)):
                found.append(entity(HINT_SLOT, hint, text))
            if found:
                message.set(ENTITIES, [*message.get(ENTITIES, []), *found], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
