"""The intent classifier (addons/linear_intent_classifier.py) with Rasa's own tokenizer and
featurizer before it: it learns, its confidences keep the SVM's ranking and say how sure it is,
it survives a save and load, and it refuses a saved file holding types it never writes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import skops.io
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from addons.linear_intent_classifier import MODEL_FILE, TEMPERATURE_FILE, LinearIntentClassifier

EXAMPLES = {
    "cancel_order": [
        "cancel my order",
        "please cancel it",
        "i want to cancel the order",
        "cancel order now",
        "can you cancel this order",
        "cancel the purchase",
    ],
    "check_order_status": [
        "where is my parcel",
        "where is my package",
        "track my parcel",
        "parcel tracking",
        "when does my package arrive",
        "status of my parcel",
    ],
    "greet": ["hello", "hi there", "good morning", "hey", "hello there", "hi"],
}


class Pipeline:
    """Tokenizer → word counts → the classifier, trained on EXAMPLES in a fresh model storage."""

    def __init__(self, tmp_path):
        self.storage = LocalModelStorage(tmp_path)
        self.context = ExecutionContext(GraphSchema({}), "test")
        self.tokenizer = WhitespaceTokenizer.create(
            WhitespaceTokenizer.get_default_config(), self.storage, Resource("tokenizer"), self.context
        )
        self.featurizer = CountVectorsFeaturizer.create(
            CountVectorsFeaturizer.get_default_config(), self.storage, Resource("featurizer"), self.context
        )
        self.resource = Resource("classifier")
        data = TrainingData(
            [Message.build(text=text, intent=intent) for intent, texts in EXAMPLES.items() for text in texts]
            # Rasa adds the domain's intents as messages without text; they must be skipped.
            + [Message(data={"intent": "greet"})]
        )
        self.tokenizer.process_training_data(data)
        self.featurizer.train(data)
        self.featurizer.process_training_data(data)
        self.classifier = LinearIntentClassifier.create({}, self.storage, self.resource, self.context)
        self.classifier.train(data)

    def parse(self, text: str, classifier: LinearIntentClassifier | None = None) -> Message:
        message = Message.build(text=text)
        self.tokenizer.process([message])
        self.featurizer.process([message])
        (classifier or self.classifier).process([message])
        return message

    def load(self) -> LinearIntentClassifier:
        return LinearIntentClassifier.load({}, self.storage, self.resource, self.context)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    return Pipeline(tmp_path_factory.mktemp("model"))


@pytest.mark.parametrize(
    ("text", "intent"),
    [("cancel this order please", "cancel_order"), ("where is the parcel", "check_order_status"), ("hello!", "greet")],
)
def test_it_learns_the_intents(pipeline, text, intent):
    parsed = pipeline.parse(text)
    assert parsed.get("intent")["name"] == intent
    assert parsed.get("intent")["confidence"] > 0.5


def test_confidences_are_a_distribution_in_the_svms_order(pipeline):
    parsed = pipeline.parse("cancel my parcel")
    ranking = parsed.get("intent_ranking")
    confidences = [entry["confidence"] for entry in ranking]
    assert sum(confidences) == pytest.approx(1.0)
    assert confidences == sorted(confidences, reverse=True)
    scores = pipeline.classifier.model.decision_function(
        pipeline.classifier._features([parsed])  # the SVM's raw scores for the same message
    )[0]
    by_score = [str(name) for name in pipeline.classifier.model.classes_[np.argsort(-scores)]]
    assert [entry["name"] for entry in ranking] == by_score
    assert parsed.get("intent") == ranking[0]


def test_a_message_of_unknown_words_is_equally_likely_anything(pipeline):
    """No known word: the SVM's intercepts alone say nothing, and the FallbackClassifier's
    threshold (0.45 in config.yml) must catch it."""
    ranking = pipeline.parse("zzyzx qwop").get("intent_ranking")
    assert [entry["confidence"] for entry in ranking] == pytest.approx([1 / len(EXAMPLES)] * len(EXAMPLES))


def test_the_temperature_was_fitted(pipeline):
    assert pipeline.classifier.temperature != 1.0
    assert 0.1 <= pipeline.classifier.temperature <= 100.0


def test_a_saved_model_answers_the_same(pipeline):
    loaded = pipeline.load()
    for text in ("cancel my order", "track it", "hey you"):
        assert pipeline.parse(text, loaded).get("intent_ranking") == pipeline.parse(text).get("intent_ranking")


def test_an_empty_message_is_left_alone(pipeline):
    message = Message.build(text="")
    pipeline.classifier.process([message])
    assert message.get("intent") is None


class Intruder:
    """A type the classifier never writes: loading a file that holds one must fail."""


def test_a_saved_file_with_a_foreign_type_is_refused(tmp_path):
    trained = Pipeline(tmp_path)
    with trained.storage.write_to(trained.resource) as directory:
        skops.io.dump({"model": Intruder()}, directory / MODEL_FILE)
        (directory / TEMPERATURE_FILE).write_text(json.dumps({"temperature": 1.0}))
    with pytest.raises(TypeError, match="Intruder"):
        trained.load()


def test_a_model_without_the_classifier_stays_untrained(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    classifier = LinearIntentClassifier.load({}, storage, Resource("never_trained"), context)
    message = Message.build(text="cancel my order")
    classifier.process([message])
    assert classifier.model is None and message.get("intent") is None
