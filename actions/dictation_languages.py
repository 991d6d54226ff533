"""What a buyer writing in Spanish, Portuguese, French or Russian asks to tell the seller:
"dile que lo necesito antes de Navidad", "pergunta se vem com carregador", "demande-lui s'il
peut l'envoyer", "спроси, есть ли зарядка". English is read in :mod:`actions.seller_message`.

Only what the buyer dictates is read here; the sentence around a question ("Could you tell me
if …?") is the catalogue's, in the same language as the buyer's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple


class Dictated(NamedTuple):
    language: str
    kind: str  # "own" (the whole message), "add" (a line), "ask" (a question put to the seller)
    how: str  # for "ask": the word that opens the question ("si", "se", "quand"; "" in Russian)
    words: str


@dataclass(frozen=True)
class Phrasing:
    """How buyers of one language put it: each field is words separated by "|" (regex)."""

    lead: str  # words before the request ("and", "please", "can you")
    seller: str  # whom it is for ("al vendedor"), optional
    tell: str  # verbs that pass a line on: "dile", "ajoute", "скажи"
    that: str  # what joins them to the line ("que", "что")
    ask: str  # verbs that put a question: "pregúntale", "demande-lui", "спроси"
    how: str  # words that open the question ("si", "se", "quand"); Russian needs none
    send: str  # verbs that send the buyer's own message, after a colon


PHRASINGS = {
    "es": Phrasing(
        lead="y|también|tambien|porfa|por favor|oye|entonces|puedes|podrías|podrias|quiero",
        seller=r"(?:(?:al|a la|con el|con la)\s+(?:vendedor|vendedora|tienda)|en el mensaje)",
        tell="dile|díle|dígale|digale|decile|comunícale|comunicale|coméntale|comentale|avísale|avisale|añade|añadí|"
        "agrega|agregá|pon|ponle|incluye|menciona",
        that=r"que\s+|q\s+",
        ask="pregúntale|preguntale|pregúntele|preguntele|pregunta|preguntá|preguntarle|consulta|consúltale",
        how="si|cuándo|cuando|por qué|por que|cómo|como|dónde|donde|qué|que",
        send="envía|envia|envíale|enviale|manda|mándale|mandale|escribe|escríbele|escribele",
    ),
    "pt": Phrasing(
        lead="e|também|tambem|por favor|pfv|pf|então|entao|pode|você pode|voce pode|quero",
        seller=r"(?:(?:a|ao|à|pra|pro|para o|para a|o|com o|com a)\s+(?:vendedor|vendedora|loja)"
        r"|(?:pra|para)\s+(?:ele|ela)|na mensagem)",
        tell="diz|diz-lhe|diga|diga-lhe|fala|fale|avisa|avise|acrescenta|acrescente|adiciona|adicione|coloca|coloque|"
        "põe|poe|inclui|inclua|menciona|mencione|deixa claro",
        that=r"que\s+",
        ask="pergunta|pergunta-lhe|pergunte|perguntar|confirma|confirme|vê|ve|veja",
        how="se|quando|por que|porque|como|onde|o que",
        send="envia|envie|manda|mande|escreve|escreva",
    ),
    "fr": Phrasing(
        lead="et|aussi|stp|svp|s'il te plaît|s'il vous plaît|alors|peux-tu|pouvez-vous|je veux",
        seller=r"(?:(?:au|à la|le|la|avec le|avec la)\s+(?:vendeur|vendeuse|boutique|magasin))",
        tell="dis-lui|dites-lui|dis|dites|précise|precise|précisez|precisez|ajoute|ajoutez|rajoute|rajoutez|mentionne|"
        "mentionnez|indique|indiquez|préviens|previens|préviens-le|previens-le|fais savoir|fais-lui savoir|signale|"
        "rappelle",
        that=r"que\s+|qu'|qu’",
        ask="demande-lui|demandez-lui|demande|demandez|vois|voyez",
        how="si|s'|s’|quand|pourquoi|comment|où|ce que",
        send="envoie|envoie-lui|envoyez|envoyez-lui|écris|écris-lui|écrivez|écrivez-lui|ecris|ecris-lui",
    ),
    "ru": Phrasing(
        lead="и|ещё|еще|также|пожалуйста|плиз|можешь|можете",
        seller=r"(?:(?:у\s+)?(?:ему|ей|им|продавцу|продавца|магазину|магазина|него|неё|нее|них)|в сообщение"
        r"|(?:u\s+)?(?:emu|prodavcu|prodavca|magazinu|magazina|nego))",
        tell="скажи|скажите|передай|передайте|напиши|напишите|добавь|добавьте|упомяни|упомяните|сообщи|сообщите|"
        "skazhi|skazhite|peredai|napishi|dobav",
        that=r"что\s+|chto\s+",
        ask="спроси|спросите|узнай|узнайте|уточни|уточните|sprosi|sprosite|uznai|utochni",
        how="",
        send="отправь|отправьте|пошли|пошлите|напиши|напишите|otprav|napishi",
    ),
}
# "también", "aussi", "ещё" may stand after the verb or the seller ("pregúntale también si …").
_ALSO = r"(?:\s+(?:también|tambien|também|tambem|aussi|ещё|еще|тоже))?"
_THIS = (
    r"(?:\s+(?:esto|lo siguiente|este mensaje|isso|isto|o seguinte|esta mensagem|ceci|ça|ce message"
    r"|assim|ainsi|так|это|вот это|следующее))?"
)


def _readers(language: str, words: Phrasing) -> list[tuple[str, str, re.Pattern[str]]]:
    """The patterns for one language, in the order they are tried."""
    lead = r"^(?:(?:" + words.lead + r")[,\s]+)*"
    seller = r"(?:\s+" + words.seller + r")?"

    def request(verbs: str, tail: str) -> re.Pattern[str]:
        return re.compile(lead + r"(?:" + verbs + r")\b" + _ALSO + seller + _ALSO + tail, re.IGNORECASE | re.DOTALL)

    if words.how:
        question = r"\s*,?\s*(?P<how>" + words.how + r")(?:\s+|(?<=['’]))(?P<words>.+)$"
    else:
        question = r"\s*[,:]?\s+(?P<how>)(?P<words>.+)$"
    return [
        # "mándale esto al vendedor: …", "dis au vendeur : …": the buyer's own message.
        (language, "own", request(words.send, _THIS + seller + r"\s*:\s*(?P<words>.+)$")),
        (language, "own", request(words.tell + "|" + words.send, _THIS + seller + r"\s*:\s*(?P<words>.+)$")),
        # "dile que …", "escríbele que …": a line.
        (language, "add", request(words.tell + "|" + words.send, r"\s*,?\s*(?:" + words.that + r")(?P<words>.+)$")),
        (language, "ask", request(words.ask, question)),
    ]


_READERS = [reader for language, words in PHRASINGS.items() for reader in _readers(language, words)]


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
