"""The main paths in each of the buyers' languages, over REST with the real servers: every
reply is in the buyer's language, checked with the identifier the assistant itself uses
(actions/languages.py), and what the buyer asked for is done."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from actions.languages import identify
from tests.e2e.conftest import Conversation

EMAIL = "alex.buyer@example.com"


@dataclass(frozen=True)
class Phrases:
    cancel: str
    cannot_pay: str
    cancel_paid_with_reason: str
    seller_declined: str
    contact_seller: str
    person: str
    yes: str
    in_english: str


PHRASES = {
    "en": Phrases(
        "I want to cancel my order",
        "I couldn't pay, my card was declined",
        "cancel order 8100000000000002, I don't want it anymore",
        "the seller refused my cancellation request",
        "I want to write to the seller",
        "I want to talk to a person",
        "yes",
        "send it in English",
    ),
    "es": Phrases(
        "quiero cancelar mi pedido",
        "no pude pagar, me rechazaron la tarjeta",
        "cancela el pedido 8100000000000002, ya no lo quiero",
        "el vendedor rechazó mi solicitud de cancelación",
        "quiero escribirle al vendedor",
        "quiero hablar con una persona",
        "sí",
        "mándalo en inglés",
    ),
    "pt": Phrases(
        "quero cancelar meu pedido",
        "não consegui pagar, o cartão foi recusado",
        "cancela o pedido 8100000000000002, não quero mais",
        "o vendedor recusou meu pedido de cancelamento",
        "quero mandar uma mensagem para o vendedor",
        "quero falar com uma pessoa",
        "sim",
        "manda em inglês",
    ),
    "fr": Phrases(
        "je veux annuler ma commande",
        "je n'ai pas pu payer, ma carte a été refusée",
        "annulez la commande 8100000000000002, je n'en veux plus",
        "le vendeur a refusé mon annulation",
        "je veux contacter le vendeur",
        "je veux parler à une personne",
        "oui",
        "envoie-le en anglais",
    ),
    "ru": Phrases(
        "хочу отменить заказ",
        "не получилось оплатить, карту отклонили",
        "отмените заказ 8100000000000002, он мне больше не нужен",
        "продавец отказался отменять заказ",
        "хочу написать продавцу",
        "хочу поговорить с человеком",
        "да",
        "отправь на английском",
    ),
}
LANGUAGES = list(PHRASES)


class Buyer(Conversation):
    """A conversation that checks the language of every reply as it comes."""

    language = "en"

    def say(self, message: str, *, also: str | None = None) -> str:
        """`also`: a language one of the replies may be in (the draft asked for in English)."""
        text = super().say(message)
        for reply in self.replies:
            if also and identify(reply.get("text") or "") == also:
                continue
            assert_in_language(reply.get("text") or "", self.language)
        return text


def assert_in_language(text: str, language: str) -> None:
    """A reply of a few words is in the language; one too short to tell is not in another."""
    found = identify(text)
    if len(text.split()) >= 5:
        assert found == language, f"not in {language}: {text!r}"
    else:
        assert found in (language, None), f"not in {language}: {text!r}"


@pytest.fixture
def buyer(stack, request) -> Buyer:
    conversation = Buyer(stack)
    conversation.language = request.param
    return conversation


def verify(buyer: Buyer, opening: str, order: str | None) -> str:
    buyer.say(opening)
    if order:
        buyer.say(order)
    return buyer.say(EMAIL)


@pytest.mark.parametrize("buyer", LANGUAGES, indirect=True)
def test_unpaid_order_cancelled_at_once(buyer, stack):
    phrases = PHRASES[buyer.language]
    verify(buyer, phrases.cancel, "8100000000000001")
    buyer.say(phrases.cannot_pay)
    buyer.say(phrases.yes)
    assert stack.store().order_for_customer("8100000000000001", "C1")["status"] == "cancelled"


@pytest.mark.parametrize("buyer", LANGUAGES, indirect=True)
def test_paid_order_gets_a_request_to_the_seller(buyer, stack):
    phrases = PHRASES[buyer.language]
    answer = verify(buyer, phrases.cancel_paid_with_reason, None)
    assert "Bluetooth earbuds" in answer
    buyer.say(phrases.yes)
    requests = stack.store().cancellation_requests("8100000000000002")
    assert len(requests) == 1 and requests[0]["reason"] == "changed_mind"


@pytest.mark.parametrize("buyer", LANGUAGES, indirect=True)
def test_shipped_order_waits(buyer, stack):
    answer = verify(buyer, PHRASES[buyer.language].cancel, "8100000000000003")
    assert "LP00123456789CN" in answer
    assert stack.store().cancellation_requests("8100000000000003") == []


@pytest.mark.parametrize("buyer", LANGUAGES, indirect=True)
def test_declined_request_leads_to_a_dispute(buyer, stack):
    phrases = PHRASES[buyer.language]
    verify(buyer, phrases.seller_declined, "8100000000000006")
    buyer.say(phrases.yes)
    assert stack.store().open_dispute_for("8100000000000006") is not None


@pytest.mark.parametrize("buyer", LANGUAGES, indirect=True)
def test_message_to_the_seller_is_written_in_the_buyers_language(buyer, stack):
    phrases = PHRASES[buyer.language]
    answer = verify(buyer, phrases.contact_seller, "8100000000000002")
    assert "Shenzhen Gadget Store" in answer
    buyer.say(phrases.yes)
    (sent,) = stack.store().seller_messages("8100000000000002")
    assert identify(sent["body"]) == buyer.language, sent["body"]


# A question dictated for the seller, and how the drafted message puts it (the frame is the
# catalogue's seller_words.ask_whether, in the buyer's language).
DICTATED_QUESTIONS = {
    "es": ("pregúntale si trae cargador", "¿Podría decirme si trae cargador?"),
    "pt": ("pergunta se vem com carregador", "Você poderia me dizer se vem com carregador?"),
    "fr": ("demande-lui s'il y a un chargeur", "Pourriez-vous me dire s'il y a un chargeur ?"),
    "ru": ("спроси, есть ли зарядка в комплекте", "Подскажите, пожалуйста, есть ли зарядка в комплекте?"),
}


@pytest.mark.parametrize("buyer", list(DICTATED_QUESTIONS), indirect=True)
def test_a_question_dictated_for_the_seller_is_put_to_the_seller_in_the_buyers_language(buyer, stack):
    dictated, put = DICTATED_QUESTIONS[buyer.language]
    verify(buyer, PHRASES[buyer.language].contact_seller, "8100000000000002")
    assert put in buyer.say(dictated)
    assert stack.store().seller_messages("8100000000000002") == []  # nothing sent before the yes
    buyer.say(PHRASES[buyer.language].yes)
    (sent,) = stack.store().seller_messages("8100000000000002")
    assert put in sent["body"] and dictated not in sent["body"], sent["body"]


@pytest.mark.parametrize("buyer", ["es", "pt", "fr", "ru"], indirect=True)
def test_the_buyer_can_have_the_message_in_english(buyer, stack):
    phrases = PHRASES[buyer.language]
    verify(buyer, phrases.contact_seller, "8100000000000002")
    redrafted = buyer.say(phrases.in_english, also="en")
    assert "Hello Shenzhen Gadget Store" in redrafted  # the draft itself, in English
    assert stack.store().seller_messages("8100000000000002") == []  # nothing sent yet
    buyer.say(phrases.yes)
    (sent,) = stack.store().seller_messages("8100000000000002")
    assert identify(sent["body"]) == "en", sent["body"]


@pytest.mark.parametrize("buyer", LANGUAGES, indirect=True)
def test_asking_for_a_person_never_promises_one(buyer):
    answer = buyer.say(PHRASES[buyer.language].person)
    assert "Help Center" in answer or "AliExpress" in answer


def test_the_channels_hint_answers_before_the_buyer_says_enough(stack):
    buyer = Buyer(stack, metadata={"language": "pt-BR"})
    buyer.language = "pt"
    buyer.say("/cancel_order")  # a button: no words to tell the language by
    buyer.say("8100000000000002")
    assert buyer.slots()["language_hint"] == "pt"


def test_short_answers_keep_the_conversations_language_and_a_switch_is_followed(stack):
    buyer = Buyer(stack, metadata={"language": "en-US"})  # an English browser, a Spanish buyer
    buyer.language = "es"
    buyer.say("quiero cancelar mi pedido")
    buyer.say("8100000000000002")  # says nothing: still Spanish
    buyer.say(EMAIL)
    buyer.say("ok")
    buyer.language = "fr"
    buyer.say("je préfère continuer en français, le vendeur ne répond jamais")
    assert buyer.slots()["language"] == "fr"
