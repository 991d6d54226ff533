"""Issue 14's "done when", in Chromium with two browser contexts: a buyer on the chat page asks
for a person; an agent in the console sees the summary, claims the conversation and replies;
the buyer reads it and answers while the bot stays silent; the agent hands back and the bot
answers again. Screenshots of both sides go to test-artifacts/."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect, sync_playwright

from actions.identity import sign_customer_token
from actions.languages import identify
from actions.replies import render, say, template
from tests.e2e.conftest import IDENTITY_SECRET, ROOT, Conversation, console_for, free_port, wait_for
from tests.e2e.test_chat_page import ARTIFACTS, BROWSER_ARGS, bot_texts, local_only_context, reply_to, wait_for_bot
from tests.e2e.test_chat_page_a11y import AXE, WCAG_21_AA
from tests.e2e.test_chat_page_languages import send as send_in_spanish
from tests.e2e.test_handoff import fresh_demo_data, helpdesk, queue, queue_stack  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def queue_console(queue_stack, tmp_path_factory):  # noqa: F811
    with console_for(queue_stack, tmp_path_factory.mktemp("queue-console")) as running:
        yield running


@pytest.fixture(scope="module")
def queue_page(queue_stack, tmp_path_factory) -> Iterator[str]:  # noqa: F811
    port = free_port()
    log = tmp_path_factory.mktemp("queue-web") / "web.log"
    command = [sys.executable, "scripts/serve_web.py", "--port", str(port), "--rasa-url", queue_stack.rasa_url]
    server = subprocess.Popen(command, cwd=ROOT, env=queue_stack.env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url, server, log, timeout=60)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def sign_in(page, console, username: str) -> None:
    page.goto(console.url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(console.passwords[username])
    page.get_by_test_id("sign-in").click()


def console_axe_violations(browser, blocked: list[str], console) -> list[str]:
    """axe-core (WCAG 2.1 AA) on the console with a conversation open, as a second agent sees
    it. axe needs `new Function`, which the console's CSP forbids: this context bypasses it."""
    page = local_only_context(browser, blocked, bypass_csp=True, viewport={"width": 1280, "height": 860}).new_page()
    sign_in(page, console, "bob")
    page.get_by_test_id("queue-item").first.click()
    expect(page.get_by_test_id("summary")).to_contain_text("Alex Buyer", timeout=15000)
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG_21_AA
    )
    return [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in results["violations"]]


def test_a_buyer_and_an_agent_talk_and_the_agent_hands_back(queue_stack, queue_console, queue_page):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=BROWSER_ARGS)
        buyer = local_only_context(browser, blocked).new_page()
        agent = local_only_context(browser, blocked, viewport={"width": 1280, "height": 860}).new_page()

        buyer.goto(queue_page)
        buyer.get_by_role("button", name="Sign in as Alex Buyer (demo)").click()
        expect(buyer.get_by_test_id("account")).to_contain_text("Signed in", timeout=30000)
        buyer.get_by_label("Open the order assistant").click()
        reply_to(buyer, "cancel 8100000000000002, I changed my mind", "Shall I send the cancellation request")
        asked = time.monotonic()
        reply_to(buyer, "I want to talk to a person", "number 1 in the queue")

        sign_in(agent, queue_console, "alice")
        item = agent.get_by_test_id("queue-item").first
        expect(item).to_be_visible(timeout=30000)
        in_console = time.monotonic() - asked
        item.click()
        summary = agent.get_by_test_id("summary")
        expect(summary).to_contain_text("Alex Buyer", timeout=15000)
        expect(summary).to_contain_text("8100000000000002")
        expect(summary).to_contain_text("Bluetooth earbuds")
        expect(agent.get_by_test_id("transcript")).to_contain_text("I changed my mind")

        agent.get_by_test_id("claim").click()
        wait_for_bot(buyer, "Alice Martin from customer support has joined")
        agent.get_by_label("Reply to the buyer").fill("Hi Alex, I'm Alice. I can see order 8100000000000002.")
        agent.get_by_test_id("send").click()
        wait_for_bot(buyer, "I'm Alice")

        bubbles = len(bot_texts(buyer))
        buyer.get_by_label("Message").fill("thanks Alice, please cancel it for me")
        buyer.get_by_role("button", name="Send").click()
        expect(agent.get_by_test_id("transcript")).to_contain_text("please cancel it for me", timeout=15000)
        buyer.wait_for_timeout(2000)
        assert len(bot_texts(buyer)) == bubbles, "the bot says nothing while the agent holds the conversation"
        assert buyer.locator("[data-testid=typing]").count() == 0, "no 'typing' dots for a bot that will not answer"
        agent.get_by_test_id("conversation-heading").scroll_into_view_if_needed()
        agent.screenshot(path=str(ARTIFACTS / "console-conversation.png"), full_page=True)
        buyer.screenshot(path=str(ARTIFACTS / "chat-with-agent.png"))

        axe_violations = console_axe_violations(browser, blocked, queue_console)

        agent.get_by_test_id("hand-back").click()
        wait_for_bot(buyer, "handed you back to me")
        reply_to(buyer, "where is order 8100000000000003", "Phone case")
        browser.close()
    assert blocked == [], f"a page tried to reach the outside: {blocked}"
    assert axe_violations == [], "\n".join(axe_violations)
    print(f"\nbuyer's request to the queue entry shown in the console: {in_console:.1f} s")


def tab_to(page, test_id: str, limit: int = 40) -> None:
    """Press Tab until the element with this test id has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.dataset.testid") == test_id:
            return
    raise AssertionError(f"Tab never reached {test_id!r}")


def test_an_agent_works_the_queue_with_the_keyboard_alone(queue_stack, queue_console):  # noqa: F811
    chat = Conversation(queue_stack, metadata={"customer_token": sign_customer_token("C1", IDENTITY_SECRET)})
    assert "queue" in chat.say("I want to talk to a person")
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=BROWSER_ARGS)
        page = local_only_context(browser, blocked).new_page()
        page.goto(queue_console.url)
        expect(page.get_by_label("Username")).to_be_focused()
        page.keyboard.type("bob")
        page.keyboard.press("Tab")
        page.keyboard.type(queue_console.passwords["bob"])
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("queue-item").first).to_be_visible(timeout=30000)
        tab_to(page, "queue-item")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("summary")).to_contain_text("Alex Buyer", timeout=15000)
        tab_to(page, "claim")
        page.keyboard.press("Enter")
        expect(page.get_by_label("Reply to the buyer")).to_be_focused(timeout=15000)
        page.keyboard.type("Hello, this is Bob from support.")
        page.keyboard.press("Control+Enter")
        expect(page.get_by_test_id("transcript")).to_contain_text("this is Bob from support", timeout=15000)
        tab_to(page, "close")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("conversation-state")).to_contain_text("losed", timeout=15000)
        browser.close()
    assert blocked == []
    texts = [event.get("text") for event in queue_stack.tracker(chat.sender)["events"] if event["event"] == "bot"]
    assert "Hello, this is Bob from support." in texts and any("closed this conversation" in t for t in texts)


def test_a_spanish_buyer_hears_the_agent_join_and_leave_in_spanish(queue_stack, queue_console, queue_page):  # noqa: F811
    """The buyer's browser is Spanish; the agent works in English and is told the buyer's
    language. The console's notices reach the buyer in Spanish, and the buyer's button press
    reads "/cancel_order" in the agent's transcript, not the hint the channel added to it."""
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=BROWSER_ARGS)
        buyer = local_only_context(browser, blocked, locale="es-ES").new_page()
        agent = local_only_context(browser, blocked, viewport={"width": 1280, "height": 860}).new_page()

        buyer.goto(queue_page)
        buyer.get_by_role("button", name="Sign in as Alex Buyer (demo)").click()
        expect(buyer.get_by_test_id("account")).to_contain_text("Signed in", timeout=30000)
        buyer.get_by_test_id("launcher").click()
        expect(buyer.get_by_test_id("status")).to_have_text(template("widget.online", "es"), timeout=30000)
        before = len(bot_texts(buyer))
        buyer.get_by_role("button", name=template("button.cancel_order", "es")).click()
        expect(buyer.get_by_test_id("bot-message")).to_have_count(before + 1, timeout=45000)
        queued = send_in_spanish(buyer, "quiero hablar con una persona, por favor")
        assert "puesto 1 de la cola" in queued and identify(queued) == "es", queued

        sign_in(agent, queue_console, "alice")
        item = agent.get_by_test_id("queue-item").first
        expect(item).to_be_visible(timeout=30000)
        item.click()
        summary = agent.get_by_test_id("summary")
        expect(summary).to_contain_text("Buyer's language", timeout=15000)
        expect(summary).to_contain_text("Spanish")
        transcript = agent.get_by_test_id("transcript")
        expect(transcript).to_contain_text("quiero hablar con una persona")
        expect(transcript).to_contain_text("/cancel_order")
        assert "language_hint" not in transcript.inner_text()

        agent.get_by_test_id("claim").click()
        # The reply box takes the focus once the claim's answer and the refreshed queue are in:
        # the queue must already show the conversation as the agent's, not as waiting.
        expect(agent.get_by_label("Reply to the buyer")).to_be_focused(timeout=15000)
        assert "with you" in item.inner_text(), item.inner_text()
        joined = wait_for_bot(buyer, "Alice Martin")
        agent.get_by_label("Reply to the buyer").fill("Hola Alex, soy Alice. ¿En qué pedido te ayudo?")
        agent.get_by_test_id("send").click()
        wait_for_bot(buyer, "soy Alice")
        agent.screenshot(path=str(ARTIFACTS / "console-conversation-es.png"), full_page=True)
        agent.get_by_test_id("hand-back").click()
        handed_back = render(say("handoff.handed_back", agent="Alice Martin"), "es")
        wait_for_bot(buyer, re.escape(handed_back))
        buyer.screenshot(path=str(ARTIFACTS / "chat-with-agent-es.png"))
        notices = [text for text in bot_texts(buyer) if "Alice Martin" in text]
        browser.close()
    assert blocked == [], f"a page tried to reach the outside: {blocked}"
    assert notices == [render(say("handoff.joined", agent="Alice Martin"), "es"), handed_back], notices
    assert joined == notices[0] and all(identify(text) == "es" for text in notices), notices
