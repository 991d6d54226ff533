"""Which language a buyer writes in, and which one the assistant answers in.

The assistant speaks English, Spanish, Portuguese, French and Russian. A message names its
language only when it says enough: "quiero cancelar mi pedido" does, "sí", "ok" and an order
number do not, and then the conversation keeps the language it had. Before the buyer has
said enough, the channel's hint (the browser's language in the chat widget, Telegram's
``language_code``) decides, and English when there is none.

Identification runs offline: lingua's models ship inside its wheel, restricted to our five
languages, helped by words only one of them uses (lingua alone takes "quero cancelar" for
Spanish and "hochu otmenit zakaz", Russian typed in Latin letters, for English).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

LANGUAGES = ("en", "es", "pt", "fr", "ru")
DEFAULT = "en"

# A conversation's language slot (set when a message says enough) and the channel's hint.
LANGUAGE_SLOT = "language"
HINT_SLOT = "language_hint"

# Words that, among our five languages, only one uses: each is a vote for it.
_WORDS: dict[str, str] = {
    "en": "i my me the want wanna cancel order orders please where is it you your how what why when "
    "thanks thank yes yeah hi hello bye seller refund dispute it's i'm dont don't didn't need "
    "talk with tracking still already ordered twice wrong size of and to in on at for we they this that was "
    "are be have has will would could can not but or if so",
    "es": "quiero quisiera gracias hola pedí compré compre vendedor tienda mi mis usted el del lo los "
    "muy pero ya todavía todavia nada hasta dónde cuándo cuando llega envío dos veces devolución "
    "devolucion reembolso vale sí necesito puedo puedes hablar humano ayuda pago tarjeta cobraron "
    "una con y talla los las al es está son su sus tus muy también hay fue desde esta este eso yo le",
    "pt": "quero queria obrigado obrigada não nao você voce meu minha pedi comprei vendedor loja "
    "encomenda cadê cade chegou ainda nada até ate onde quando envio duas vezes reembolso devolução "
    "devolucao sim preciso posso falar pessoa humano ajuda pagamento cartão cartao cobraram oi olá "
    "tchau valeu pra bom um uma com ele ela isso tá também tamanho os do da dos das na nas em e é são "
    "está sua seu seus suas já ao pelo pela então essa esse foi",
    "fr": "je j'ai veux voudrais merci bonjour salut oui commande annuler mon ma mes vous est où "
    "toujours rien vendeur boutique remboursement litige deux fois besoin parler personne humain "
    "aide paiement carte livraison colis pas c'est le les des du et il elle avec pour dans sur mais votre "
    "vos nous ne qui ce cette ces été être avez au aux plus très",
    "ru": "hochu khochu otmenit otmena zakaz zakaza spasibo privet pozhaluista pozhaluysta prodavets "
    "prodavtsa posylka posylku gde kogda vozvrat dengi net kak mne moi moy chelovek operator",
}
_SAID_BY: dict[str, set[str]] = {}
for _language, _words in _WORDS.items():
    for _word in _words.split():
        _SAID_BY.setdefault(_word, set()).add(_language)
# Only words one language alone uses vote ("vendedor", "humano" are Spanish and Portuguese).
_OWN_WORDS = {language: frozenset(w for w, by in _SAID_BY.items() if by == {language}) for language in _WORDS}
# "cancelar", "pedido", "por favor", "no" and the like belong to several of them: no vote.
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_NOT_WORDS = re.compile(r"\S+@\S+|https?://\S+")  # emails and links say nothing of the language
# Quoted words are someone else's (a seller's policy quoted in a reply, a title): not the language.
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”|«[^»]*»')

# How sure lingua must be, when no word decides, for a message to name its language.
CONFIDENT = 0.7
# Fewer letters than this never name a language ("ok", "sí", "8100…", "oui").
MIN_LETTERS = 4


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    languages = [Language.ENGLISH, Language.SPANISH, Language.PORTUGUESE, Language.FRENCH, Language.RUSSIAN]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def _lingua_scores(text: str) -> dict[str, float]:
    return {
        value.language.iso_code_639_1.name.lower(): value.value
        for value in _detector().compute_language_confidence_values(text)
    }


def identify(text: str) -> str | None:
    """The message's language, or None when it does not say enough to tell."""
    if _CYRILLIC.search(text):
        return "ru"
    text = _NOT_WORDS.sub(" ", text)
    unquoted = _QUOTED.sub(" ", text)
    words = [word.casefold() for word in _WORD.findall(unquoted if _WORD.search(unquoted) else text)]
    votes = {language: sum(word in own for word in words) for language, own in _OWN_WORDS.items()}
    best = max(votes, key=lambda language: votes[language])
    runner_up = max(votes[language] for language in votes if language != best)
    if votes[best] and (votes[best] >= 2 * runner_up + 2 or (runner_up == 0 and len(words) <= 2)):
        return best  # "quero cancelar meu pedido", "gracias", "hola"
    if sum(len(word) for word in words) < MIN_LETTERS:
        return None
    scores = _lingua_scores(" ".join(words))
    for language, count in votes.items():
        scores[language] = scores.get(language, 0.0) + 0.25 * count
    total = sum(scores.values()) or 1.0
    top = max(scores, key=lambda language: scores[language])
    if scores[top] / total >= CONFIDENT or (top == best and votes[best] > runner_up):
        return top  # sure, or the words and lingua agree (a reply quoting an English seller)
    return None


def from_hint(tag: str | None) -> str | None:
    """One of our languages from a channel's tag ("es-ES", "pt_BR", "fr"), else None."""
    if not tag or not isinstance(tag, str):
        return None
    language = tag.strip().replace("_", "-").split("-")[0].casefold()
    return language if language in LANGUAGES else None


# Where each channel puts the buyer's language in a message's metadata: the chat widget
# ("language": the browser's), Telegram ("language_code": the app's).
HINT_KEYS = ("language", "language_code", "locale")


def channel_hint(metadata: Any) -> str | None:
    """The channel's hint in a message's metadata, if it is one of our languages."""
    if not isinstance(metadata, dict):
        return None
    return next((language for key in HINT_KEYS if (language := from_hint(metadata.get(key)))), None)


# A button's payload carries the channel's hint as an entity (channels/guard.py), since Rasa
# reads no language from "/affirm": `/affirm{"language_hint": "es"}`.
_HINTED_PAYLOAD = re.compile(r'^(/\w+)\{"' + HINT_SLOT + r'": "[a-z]{2}"\}$')


def with_payload_hint(payload: str, language: str) -> str:
    """The payload with the channel's hint, which the NLU-free payload path still reads."""
    return f'{payload}{{"{HINT_SLOT}": "{language}"}}'


def as_pressed(text: str) -> str:
    """A button press as the buyer made it ("/affirm"), without the hint the channel added:
    what a transcript shows."""
    hinted = _HINTED_PAYLOAD.match(text)
    return hinted.group(1) if hinted else text


def conversation_language(slots: dict[str, Any]) -> str:
    """The language to answer in: the buyer's, else the channel's hint, else English."""
    for value in (slots.get(LANGUAGE_SLOT), slots.get(HINT_SLOT)):
        if value in LANGUAGES:
            return str(value)
    return DEFAULT
