"""What a buyer writing in Spanish, Portuguese, French or Russian asks to tell the seller:
"dile que lo necesito antes de Navidad", "pergunta se vem com carregador", "demande-lui s'il
peut l'envoyer", "спроси, есть ли зарядка". English is read in :mod:`actions.seller_message`.

Only what the buyer dictates is read here; the sentence around a question ("Could you tell me
if …?") is the catalogue's, in the same language as the buyer's words.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Dictated(NamedTuple):
    language: str
    kind: str  # "own" (the whole message), "add" (a line), "ask" (a question put to the seller)
    how: str  # for "ask": the word that opens the question ("si", "se", "quand"; "" in Russian)
    words: str


def _pattern(lead: str, verbs: str, seller: str, tail: str) -> re.Pattern[str]:
    also = r"(?:\s+(?:también|tambien|também|tambem|aussi|ещё|еще|тоже))?"
    return re.compile(
        lead + r"(?:" + verbs + r")\b" + also + r"(?:\s+" + seller + r")?" + also + tail, re.IGNORECASE | re.DOTALL
    )


_LEADS = {
    "es": r"^(?:(?:y|también|tambien|porfa|por favor|oye|entonces|puedes|podrías|podrias|quiero)[,\s]+)*",
    "pt": r"^(?:(?:e|também|tambem|por favor|pfv|pf|então|entao|pode|você pode|voce pode|quero)[,\s]+)*",
    "fr": r"^(?:(?:et|aussi|stp|svp|s'il te plaît|s'il vous plaît|alors|peux-tu|pouvez-vous|je veux)[,\s]+)*",
    "ru": r"^(?:(?:и|ещё|еще|также|пожалуйста|плиз|можешь|можете)[,\s]+)*",
}
_SELLERS = {
    "es": r"(?:al|a la)\s+(?:vendedor|vendedora|tienda)",
    "pt": r"(?:(?:a|ao|à|pra|pro|para o|para a|o)\s+(?:vendedor|vendedora|loja)|(?:pra|para)\s+(?:ele|ela))",
    "fr": r"(?:au|à la)\s+(?:vendeur|vendeuse|boutique)",
    "ru": r"(?:у\s+)?(?:ему|ей|им|продавцу|продавца|магазину|магазина|него|неё|нее|них)",
}
# "tell them that …", "add that …": a line in the drafted message.
_TELL = {
    "es": r"dile|díle|dígale|digale|decile|dile\s+al\s+vendedor|comunícale|comunicale|avísale|avisale|"
    r"añade|añadí|agrega|agregá|pon|incluye|menciona",
    "pt": r"diz|diga|fala|fale|avisa|avise|acrescenta|acrescente|adiciona|adicione|coloca|coloque|inclui|inclua|"
    r"menciona|mencione",
    "fr": r"dis-lui|dites-lui|dis|dites|précise|precise|précisez|precisez|ajoute|ajoutez|mentionne|mentionnez|"
    r"indique|indiquez|préviens-le|previens-le",
    "ru": r"скажи|скажите|передай|передайте|напиши|напишите|добавь|добавьте|упомяни|упомяните|сообщи|сообщите",
}
_THAT = {"es": r"que\s+", "pt": r"que\s+", "fr": r"que\s+|qu'|qu’", "ru": r"что\s+"}
# "ask them if …": a question put to the seller.
_ASK = {
    "es": r"pregúntale|preguntale|pregúntele|preguntele|pregunta|preguntá",
    "pt": r"pergunta|pergunte|perguntar",
    "fr": r"demande-lui|demandez-lui|demande|demandez",
    "ru": r"спроси|спросите|узнай|узнайте|уточни|уточните",
}
_HOW = {
    "es": r"si|cuándo|cuando|por qué|por que|cómo|como|dónde|donde|qué|que",
    "pt": r"se|quando|por que|porque|como|onde|o que",
    "fr": r"si|s'|s’|quand|pourquoi|comment|où|ce que",
    "ru": r"",
}
# "send this to the seller: …": the buyer's own message.
_SEND = {
    "es": r"envía|envia|envíale|enviale|manda|mándale|mandale|escribe|escríbele|escribele",
    "pt": r"envia|envie|manda|mande|escreve|escreva",
    "fr": r"envoie|envoie-lui|envoyez|envoyez-lui|écris|écris-lui|écrivez|écrivez-lui|ecris|ecris-lui",
    "ru": r"отправь|отправьте|пошли|пошлите|напиши|напишите",
}
_THIS = (
    r"(?:\s+(?:esto|lo siguiente|este mensaje|isso|isto|o seguinte|esta mensagem|ceci|ça|ce message"
    r"|это|вот это|следующее))?"
)

_READERS: list[tuple[str, str, re.Pattern[str]]] = []
for _language in _LEADS:
    lead, seller = _LEADS[_language], _SELLERS[_language]
    verbs_to_tell = _TELL[_language] + "|" + _SEND[_language]  # "escríbele que …" tells too
    _READERS += [
        (
            _language,
            "own",
            _pattern(lead, _SEND[_language], seller, _THIS + r"(?:\s+" + seller + r")?\s*:\s*(?P<words>.+)$"),
        ),
        (_language, "own", _pattern(lead, _TELL[_language], seller, r"\s*:\s*(?P<words>.+)$")),
        (
            _language,
            "add",
            _pattern(lead, verbs_to_tell, seller, r"\s*,?\s*(?:" + _THAT[_language] + r")(?P<words>.+)$"),
        ),
    ]
    if _HOW[_language]:
        ask_tail = r"\s*,?\s*(?P<how>" + _HOW[_language] + r")(?:\s+|(?<=['’]))(?P<words>.+)$"
    else:
        ask_tail = r"\s*[,:]?\s+(?P<how>)(?P<words>.+)$"
    _READERS.append((_language, "ask", _pattern(lead, _ASK[_language], seller, ask_tail)))


def read_other_languages(text: str) -> Dictated | None:
    """What the buyer dictates, if the message says it the way one of the four languages does."""
    for language, kind, pattern in _READERS:
        if match := pattern.match(text):
            how = (match.groupdict().get("how") or "").strip()
            words = match["words"].strip()
            if how in ("s'", "s’"):  # "demande-lui s'il peut": the elision stays with its word
                how, words = "", how + words
            return Dictated(language, kind, how.lower(), words)
    return None
