"""The message to the seller in the buyer's own words: what is read out of a message, how the
message is composed, and the actions that take the words and send exactly what was shown."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import render
from actions.seller_actions import ActionTakeSellerWords, ValidateSellerMessageForm
from actions.seller_message import (
    MAX_SELLER_WORDS,
    BuyerWords,
    Dictation,
    draft_seller_message,
    read_dictation,
    tidy,
)
from actions.service import get_service
from tests.test_actions import confirm, fresh_db, guide, make_tracker, run, slots_of, texts  # noqa: F401 (fixture)

ADD, OWN = Dictation.ADD, Dictation.OWN


@pytest.mark.parametrize(
    "message,kind,words",
    [
        ("add that I need it before Christmas", ADD, "I need it before Christmas."),
        ("please also mention that i'm moving house on the 20th", ADD, "I'm moving house on the 20th."),
        ("add: the gift note should say Happy Birthday", ADD, "The gift note should say Happy Birthday."),
        ("can you add that i would like a refund to my card", ADD, "I would like a refund to my card."),
        ("tell them I need it before christmas", ADD, "I need it before christmas."),
        ("let the seller know i'm away until Monday", ADD, "I'm away until Monday."),
        (
            "ask them if they can ship it before Christmas",
            ADD,
            "Could you tell me if you can ship it before Christmas?",
        ),
        ("ask the seller to pack it well", ADD, "Could you please pack it well?"),
        (
            "send this to the seller of order 8100000000000003: could you ship it before Christmas?",
            OWN,
            "Could you ship it before Christmas?",
        ),
        ('message the store: "Hi, is the charger included?"', OWN, "Hi, is the charger included?"),
        ("tell the seller: I need it for my daughter's birthday", OWN, "I need it for my daughter's birthday."),
        ("Please tell me when you will ship it", OWN, "Please tell me when you will ship it."),
        ("could you ship it before christmas", OWN, "Could you ship it before christmas?"),
        # Requests to contact the seller that carry the question itself (issue 15).
        ("ask the seller can he send it with dhl", ADD, "Can you send it with dhl?"),
        ("ask the shop is the dress lined", ADD, "Is the dress lined?"),
        (
            "plz ask seller for me if the color is exactly like the photo",
            ADD,
            "Could you tell me if the color is exactly like the photo?",
        ),
        ("i need to ask the seller if the plug is eu type", ADD, "Could you tell me if the plug is eu type?"),
        (
            "contact the shop and ask if they can change the size to L",
            ADD,
            "Could you tell me if you can change the size to L?",
        ),
        (
            "can you check with the seller whether the item is original",
            ADD,
            "Could you tell me whether the item is original?",
        ),
        (
            # Found in Chromium: with the order named, the whole request went to the seller.
            "could you contact the shop of order 8100000000000002 and ask if they can send it in a bigger box",
            ADD,
            "Could you tell me if you can send it in a bigger box?",
        ),
        ("can u ask seller to pack it well 🎁", ADD, "Could you please pack it well?"),
        ("ask them to use a bigger box please", ADD, "Could you please use a bigger box?"),
        ("message the store and ask for a bigger size", ADD, "I would like to ask for a bigger size."),
        ("ask if they do cash on delivery", ADD, "Could you tell me if you do cash on delivery?"),
        ("say to the seller that i need an invoice", ADD, "I need an invoice."),
        ("send the shop this: please wrap it well", OWN, "Please wrap it well."),
        # A wish to contact the seller with no words in it is not a dictation: read whole.
        ("i need to ask the seller something", OWN, "I need to ask the seller something."),
    ],
)
def test_what_the_buyer_dictates_is_read_out(message, kind, words):
    assert read_dictation(message) == (kind, words)


@pytest.mark.parametrize(
    "message,kind,words",
    [
        ("dile que lo necesito antes de Navidad", ADD, "Lo necesito antes de Navidad."),
        ("pregúntale al vendedor si puede enviarlo por DHL?", ADD, "¿Podría decirme si puede enviarlo por DHL?"),
        ("porfa preguntale cuando lo envia", ADD, "¿Podría decirme cuando lo envia?"),
        ("mándale esto al vendedor: hola, ¿viene con cargador?", OWN, "Hola, ¿viene con cargador?"),
        ("diz ao vendedor que preciso antes do Natal", ADD, "Preciso antes do Natal."),
        ("pergunta se vem com carregador", ADD, "Você poderia me dizer se vem com carregador?"),
        ("manda isso pro vendedor: oi, tem na cor azul?", OWN, "Oi, tem na cor azul?"),
        ("dis au vendeur que j'en ai besoin avant Noël", ADD, "J'en ai besoin avant Noël."),
        ("demande-lui s'il peut l'envoyer avant Noël", ADD, "Pourriez-vous me dire s'il peut l'envoyer avant Noël ?"),
        ("envoie-lui : bonjour, le chargeur est inclus ?", OWN, "Bonjour, le chargeur est inclus ?"),
        ("скажи продавцу, что мне нужно до Нового года", ADD, "Мне нужно до Нового года."),
        ("спроси у продавца, когда отправят?", ADD, "Подскажите, пожалуйста, когда отправят?"),
        ("напиши продавцу: здравствуйте, пришлите трек", OWN, "Здравствуйте, пришлите трек."),
        ("pregúntale también si manda a Canarias", ADD, "¿Podría decirme si manda a Canarias?"),
        ("escríbele a la tienda que me mudé", ADD, "Me mudé."),
        ("avisa o vendedor que só estou em casa depois das 18h", ADD, "Só estou em casa depois das 18h."),
        ("добавь ещё, что я буду в отпуске", ADD, "Я буду в отпуске."),
        (
            "consulta con el vendedor si el color es igual al de la foto",
            ADD,
            "¿Podría decirme si el color es igual al de la foto?",
        ),
        ("dile esto al vendedor: necesito el producto el viernes", OWN, "Necesito el producto el viernes."),
        ("pergunta-lhe se ainda há o tamanho XL", ADD, "Você poderia me dizer se ainda há o tamanho XL?"),
        ("escreve assim: olá, consegue enviar antes do natal?", OWN, "Olá, consegue enviar antes do natal?"),
        ("préviens le vendeur que je déménage le 15", ADD, "Je déménage le 15."),
        ("demande au magasin s'ils ont la taille XL", ADD, "Pourriez-vous me dire s'ils ont la taille XL ?"),
        (
            "напиши так: Здравствуйте, можете отправить до 20 декабря?",
            OWN,
            "Здравствуйте, можете отправить до 20 декабря?",
        ),
        ("skazhi prodavcu chto ya v komandirovke", ADD, "Ya v komandirovke."),  # Russian in Latin letters
        # No words to pass on, or no dictation at all: the message is the buyer's own, whole.
        ("quiero escribirle al vendedor", OWN, "Quiero escribirle al vendedor."),
        ("dile quedan dos", OWN, "Dile quedan dos."),
        ("я хочу написать продавцу", OWN, "Я хочу написать продавцу."),
    ],
)
def test_what_the_buyer_dictates_in_their_language_is_read_out_in_it(message, kind, words):
    """The question's frame comes from the catalogue in the language of the words dictated."""
    assert read_dictation(message) == (kind, words)


@pytest.mark.parametrize(
    "words,sentence",
    [
        ("pode enviar antes do natal", "Pode enviar antes do natal?"),
        ("cuándo lo envías", "Cuándo lo envías?"),
        ("когда отправите", "Когда отправите?"),
        ("lo necesito pronto", "Lo necesito pronto."),
    ],
)
def test_a_question_in_any_language_ends_with_a_question_mark(words, sentence):
    assert tidy(words) == sentence


def test_tidy_keeps_line_breaks_and_the_buyers_braces():
    assert tidy('  "hello   {order_id}\n\n\n\nbye"  ') == "Hello {order_id}\n\nbye."
    assert tidy("   ") == ""


def test_words_round_trip_through_the_slot_and_stay_with_their_order():
    words = BuyerWords("8100000000000002").with_dictation(ADD, "A.").with_dictation(ADD, "B.")
    assert BuyerWords.from_slot(words.to_slot()) == words
    assert BuyerWords.from_slot({"own": 3, "added": "x"}) == BuyerWords()
    assert BuyerWords.from_slot("junk") == BuyerWords() and BuyerWords().to_slot() is None
    assert not words.for_order("8100000000000003"), "words for one order never reach another"
    assert words.for_order("8100000000000002") == words
    assert words.with_dictation(OWN, "Mine.") == BuyerWords("8100000000000002", "Mine.", ())


def order_facts(order_id: str = "8100000000000002"):
    return get_service().find(order_id, "C1")


def test_added_lines_go_into_the_draft_and_own_words_replace_the_request():
    facts = order_facts()
    added = render(draft_seller_message(facts, None, "Alex Buyer", BuyerWords(None, None, ("I need it by Friday.",))))
    assert "Could you please help me" in added and "I need it by Friday." in added and "8100000000000002" in added
    own = render(draft_seller_message(facts, None, "Alex Buyer", BuyerWords(None, "Ship it {fast}?", ())))
    assert own.startswith("Hello Shenzhen Gadget Store,") and "8100000000000002" in own
    assert "Ship it {fast}?" in own and "Could you please" not in own and own.endswith("Alex Buyer")


def test_the_price_change_offer_shows_the_message_before_the_question():
    _, messages = guide("8100000000000002", reason="price_or_product_change")
    assert "Hello Shenzhen Gadget Store" in texts(messages), "a message must be shown before it is offered"


def take(slots, text="", intent="dictate_seller_message"):
    return run(ActionTakeSellerWords(), make_tracker(slots, text=text, intent=intent))


DRAFT_OPEN = {
    "order_id": "8100000000000002",
    "customer_id": "C1",
    "goal": "contact_seller",
    "pending_offer": "send_seller_message:8100000000000002",
    "seller_message_draft": "Hello…",
}


def test_dictated_words_go_to_the_open_draft_and_the_order_form_shows_it_again():
    events, messages = take(DRAFT_OPEN, "add that I need it before Christmas")
    slots = slots_of(events)
    assert slots["seller_words"] == {
        "order_id": "8100000000000002",
        "own": None,
        "added": ["I need it before Christmas."],
    }
    assert slots["pending_offer"] is None and slots["goal"] == "contact_seller"
    assert events[-1] == {"event": "followup", "name": "order_form", "timestamp": None}
    assert messages == []


def test_the_shown_message_is_the_one_sent():
    words = BuyerWords("8100000000000002", None, ("I need it before Christmas.",)).to_slot()
    tracker = make_tracker({**DRAFT_OPEN, "seller_words": words, "pending_offer": None})
    events, messages = run(__import__("actions.order_actions").order_actions.ActionGuideOrder(), tracker)
    shown = texts(messages)
    draft = slots_of(events)["seller_message_draft"]
    assert draft in shown and "I need it before Christmas." in draft
    assert [button["title"] for button in messages[-1]["buttons"]] == ["Yes, go ahead", "Write my own", "No, thanks"]
    _, sent = confirm("8100000000000002", "send_seller_message", goal="contact_seller", draft=draft)
    assert [row["body"] for row in get_service().store.seller_messages("8100000000000002")] == [draft]


def test_a_yes_without_a_shown_message_sends_nothing():
    _, messages = confirm("8100000000000002", "send_seller_message", goal="contact_seller", draft=None)
    assert "no message for me to send" in texts(messages)
    assert get_service().store.seller_messages("8100000000000002") == []


def test_an_order_named_in_the_message_wins_over_the_open_draft():
    slots = {**DRAFT_OPEN, "order_id": "8100000000000003"}
    tracker = make_tracker(
        slots, text="send this to the seller of order 8100000000000003: hi", intent="dictate_seller_message"
    )
    tracker.events.insert(0, {"event": "slot", "name": "order_id", "value": "8100000000000002"})
    events, _ = run(ActionTakeSellerWords(), tracker)
    assert slots_of(events)["order_id"] == "8100000000000003"
    assert slots_of(events)["seller_words"]["own"] == "Hi."


def test_typed_message_is_taken_as_typed():
    events, _ = take({**DRAFT_OPEN, "seller_text": "  could you ship it   before Christmas?\nThanks "}, intent="greet")
    assert slots_of(events)["seller_words"]["own"] == "could you ship it   before Christmas?\nThanks"
    assert slots_of(events)["seller_text"] is None


def test_leaving_the_form_keeps_the_open_draft_and_asks_again():
    events, messages = take(DRAFT_OPEN, "no", intent="deny")
    assert "stays as it was" in texts(messages) and "Shall I send it" in texts(messages)
    assert "pending_offer" not in slots_of(events)
    _, nothing = take({"customer_id": "C1"}, "no", intent="deny")
    assert "haven't sent anything" in texts(nothing)


def test_too_many_words_are_refused_with_the_limit():
    events, messages = take(DRAFT_OPEN, "add that " + "x" * (MAX_SELLER_WORDS + 1))
    assert str(MAX_SELLER_WORDS) in texts(messages) and "seller_words" not in slots_of(events)


def validate_text(value: str, intent: str = "out_of_scope") -> tuple[dict, str]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({}, text=value, intent=intent)
    result = asyncio.run(ValidateSellerMessageForm().validate_seller_text(value, dispatcher, tracker, {}))
    return result, texts(dispatcher.messages)


@pytest.mark.parametrize(
    "value,intent,expected",
    [
        (
            "Could you ship it before Christmas?",
            "dictate_seller_message",
            {"seller_text": "Could you ship it before Christmas?"},
        ),
        ("no", "deny", {"seller_text": None, "requested_slot": None}),
        ("/affirm", "affirm", {"seller_text": None, "requested_slot": None}),
        (
            "No, I do not want it any more, please cancel it",
            "deny",
            {"seller_text": "No, I do not want it any more, please cancel it"},
        ),
        ("?!?!", "out_of_scope", {"seller_text": None}),
        ("y" * (MAX_SELLER_WORDS + 1), "out_of_scope", {"seller_text": None}),
        ("<script>alert(1)</script>", "out_of_scope", {"seller_text": "<script>alert(1)</script>"}),
    ],
)
def test_the_typed_message_is_checked(value, intent, expected):
    assert validate_text(value, intent)[0] == expected
