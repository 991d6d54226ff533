"""Typo-robust words for the NLU: a misspelt word becomes the training word it was meant to be.

Buyers type "acnceling", "oredr", "refnud", "pakage". The count-vector features only know
words (and character n-grams) seen in training, so a misspelt key word is lost. This
component sits right after the tokenizer and, for a token the training data never had, looks
for a training word within one edit (two for long words; a swap of two letters counts as
one), preferring the most frequent; it also splits two words run together ("don'twant",
"myorder") when both halves are training words. It changes only the tokens the featurizers
read (text and lemma); the message text, and so the entities and what the action server
sees, stays as the buyer wrote it.

Lookups use a deletion index (the SymSpell idea): the word list is expanded once, at load
time, into every string one or two deletions away, so a lookup costs a few dictionary hits,
not a scan of the vocabulary.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.io import dump_obj_as_json_to_file, read_json_file

logger = logging.getLogger(__name__)

VOCABULARY_FILE = "vocabulary.json"


def damerau_levenshtein(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from `a` to `b`; `limit + 1` once
    it is certain to exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous_previous[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous_previous, previous = previous, current
    return previous[-1]


def deletions(word: str, depth: int) -> set[str]:
    """Every string made by deleting up to `depth` letters from `word` (itself included)."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {item[:i] + item[i + 1 :] for item in frontier for i in range(len(item))}
        found |= frontier
    return found


class Speller:
    """The key words and how to reach them from a misspelling; every training word is known."""

    def __init__(
        self, counts: dict[str, int], lemmas: dict[str, str], key_words: Iterable[str], min_length: int
    ) -> None:
        self.counts = counts
        self.lemmas = lemmas
        self.min_length = min_length
        self.key_words = {word for word in key_words if word in counts and len(word) >= min_length and word.isalpha()}
        self.index: dict[str, set[str]] = defaultdict(set)
        for word in self.key_words:
            for deleted in deletions(word, self.allowed(word)):
                self.index[deleted].add(word)

    @staticmethod
    def allowed(word: str) -> int:
        return 1 if len(word) < 8 else 2

    def correct(self, word: str) -> str | None:
        """The training word meant by `word`, or None (known already, too short, unsure)."""
        if word in self.counts or len(word) < self.min_length or not word.isalpha():
            return None
        limit = self.allowed(word)
        candidates = {match for deleted in deletions(word, limit) for match in self.index.get(deleted, ())}
        scored = sorted(
            (
                (damerau_levenshtein(word, candidate, limit), -self.counts[candidate], candidate)
                for candidate in candidates
            ),
        )
        scored = [entry for entry in scored if entry[0] <= limit]
        if not scored:
            return None
        if len(scored) > 1 and scored[1][:2] == scored[0][:2]:
            return None  # two words just as close and as common: do not guess
        return scored[0][2]

    def split(self, word: str) -> tuple[str, str] | None:
        """Two training words run together ("myorder" -> "my", "order"), one of them a key
        word, most common pair first."""
        if word in self.counts or len(word) < 5:
            return None
        pairs = [
            (min(self.counts[word[:i]], self.counts[word[i:]]), word[:i], word[i:])
            for i in range(2, len(word) - 1)
            if word[:i] in self.counts and word[i:] in self.counts and {word[:i], word[i:]} & self.key_words
        ]
        if not pairs:
            return None
        _, left, right = max(pairs)
        return left, right


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class KeyVocabularySpelling(GraphComponent):
    """Misspelt and run-together words mapped onto the training vocabulary (module docstring)."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # Only the key vocabulary is a correction target: words the in-scope examples use at
        # least `min_count` times and the off-topic ones (almost) never. Correcting towards any
        # training word turned unknown off-topic words into order words (README, docs/nlu.md).
        # Words shorter than 4 letters have too many neighbours to correct safely.
        return {"min_length": 4, "min_count": 5, "max_off_topic_share": 0.1, "off_topic_intent": "out_of_scope"}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        counts: dict[str, int] | None = None,
        lemmas: dict[str, str] | None = None,
        key_words: list[str] | None = None,
    ) -> None:
        self.config = config
        self.model_storage = model_storage
        self.resource = resource
        self.speller = Speller(counts or {}, lemmas or {}, key_words or [], config["min_length"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KeyVocabularySpelling:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> KeyVocabularySpelling:
        try:
            with model_storage.read_from(resource) as directory:
                stored = read_json_file(directory / VOCABULARY_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("no vocabulary stored for %s: spelling is left as typed", cls.__name__)
            stored = {}
        return cls(config, model_storage, resource, stored.get("counts"), stored.get("lemmas"), stored.get("key_words"))

    def train(self, training_data: TrainingData) -> Resource:
        counts: Counter[str] = Counter()
        off_topic: Counter[str] = Counter()
        lemma_votes: dict[str, Counter[str]] = defaultdict(Counter)
        for message in training_data.training_examples:
            is_off_topic = message.get(INTENT) == self.config["off_topic_intent"]
            for token in message.get(TOKENS_NAMES[TEXT]) or []:
                word = token.text.lower()
                counts[word] += 1
                off_topic[word] += is_off_topic
                lemma_votes[word][token.lemma] += 1
        lemmas = {word: votes.most_common(1)[0][0] for word, votes in lemma_votes.items()}
        key_words = sorted(
            word
            for word, count in counts.items()
            if count - off_topic[word] >= self.config["min_count"]
            and off_topic[word] <= self.config["max_off_topic_share"] * count
        )
        stored = {"counts": dict(counts), "lemmas": lemmas, "key_words": key_words}
        with self.model_storage.write_to(self.resource) as directory:
            dump_obj_as_json_to_file(directory / VOCABULARY_FILE, stored)
        self.speller = Speller(dict(counts), lemmas, key_words, self.config["min_length"])
        return self.resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # every training word is known: nothing to correct

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            tokens = message.get(TOKENS_NAMES[TEXT])
            if tokens:
                message.set(TOKENS_NAMES[TEXT], list(self._corrected(tokens)))
        return messages

    def _corrected(self, tokens: Iterable[Token]) -> Iterable[Token]:
        for token in tokens:
            word = token.text.lower()
            meant = self.speller.correct(word)
            if meant is not None:
                yield Token(meant, token.start, token.end, dict(token.data), self.speller.lemmas.get(meant, meant))
                continue
            halves = self.speller.split(word)
            if halves is None:
                yield token
                continue
            left, right = halves
            middle = token.start + len(left)
            yield Token(left, token.start, middle, dict(token.data), self.speller.lemmas.get(left, left))
            yield Token(right, middle, token.end, dict(token.data), self.speller.lemmas.get(right, right))
