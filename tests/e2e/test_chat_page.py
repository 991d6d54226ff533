"""The chat page in a real headless Chromium (Debian's), driven by Playwright: a whole
cancellation by clicking and typing, a reload in the middle, safe rendering of bot text,
demo sign-in under `make run`'s own script, a second tab, the phone layout. Every request
that is not to this machine is blocked. Screenshots go to test-artifacts/.

Playwright (requirements-dev.lock) and Chromium (`make browser`) are required: without
either these tests fail, they are never skipped."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests.e2e.conftest import ROOT, free_port, wait_for

ARTIFACTS = ROOT / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
EMAIL = "alex.buyer@example.com"
GREETING = "Hi! I can help you cancel an order, check where it is, contact the seller or open a dispute."
DESKTOP = {"width": 1100, "height": 760}
PHONE = {"width": 390, "height": 844}
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium: on PATH, or where Debian puts it."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"Chromium is missing ({path}): `make browser` installs Debian's chromium")
    return path


@pytest.fixture(scope="module")
def page_url(chromium, stack, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("web") / "web.log"
    server = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts" / "serve_web.py"),
            "--port",
            str(port),
            "--rasa-url",
            stack.rasa_url,
        ],
        env=stack.env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(url, server, log)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def local_only_context(browser, blocked: list[str], **options):
    """A browser context (desktop-sized unless told) in which every request that is not to
    this machine is aborted and noted in `blocked`."""
    context = browser.new_context(**{"viewport": DESKTOP, **options})

    def only_local(route):
        host = urlsplit(route.request.url).hostname or ""
        if host in LOCAL_HOSTS:
            return route.continue_()
        blocked.append(route.request.url)
        return route.abort()

    context.route("**/*", only_local)
    return context


@pytest.fixture
def browser_page(chromium, page_url):
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=BROWSER_ARGS)
        context = local_only_context(browser, blocked)
        page = context.new_page()
        page.blocked = blocked
        yield page
        context.close()
        browser.close()
    assert blocked == [], f"the page tried to reach the outside: {blocked}"


def bot_texts(page) -> list[str]:
    return page.locator("[data-testid=bot-message]").all_inner_texts()


def wait_for_bot(page, pattern: str, timeout: float = 45) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for text in reversed(bot_texts(page)):
            if re.search(pattern, text):
                return text
        page.wait_for_timeout(200)
    raise AssertionError(f"no bot message matching {pattern!r}; got {bot_texts(page)[-4:]}")


def wait_online(page) -> None:
    # The page's CSP forbids eval, so waits go through locators, not wait_for_function.
    expect(page.get_by_test_id("status")).to_have_text("online", timeout=30000)


def type_message(page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send").click()


def reply_to(page, text: str, pattern: str, timeout: float = 45) -> str:
    """Send a message and wait for a new bot message matching the pattern."""
    before = len(bot_texts(page))
    type_message(page, text)
    deadline = time.time() + timeout
    while time.time() < deadline:
        for reply in bot_texts(page)[before:]:
            if re.search(pattern, reply):
                return reply
        page.wait_for_timeout(200)
    raise AssertionError(f"no new bot message matching {pattern!r}; got {bot_texts(page)[before:]}")


def open_chat(page) -> None:
    """Open the panel unless it is open already (a restored or duplicated tab)."""
    launcher = page.get_by_test_id("launcher")
    launcher.wait_for()  # the widget is there: its panel too
    if not page.get_by_label("Message").is_visible():
        launcher.click()
    expect(page.get_by_label("Message")).to_be_visible()


def session_id(page) -> str | None:
    return page.evaluate("(JSON.parse(sessionStorage.getItem('orderAssistant.v1') || '{}')).sessionId || null")


def user_texts(page) -> list[str]:
    return page.locator("[data-testid=user-message]").all_inner_texts()


def live_buttons(page) -> list[str]:
    return page.locator(".oa-buttons button:enabled").all_inner_texts()


def test_cancel_an_order_in_the_browser_across_a_reload(browser_page, page_url, stack):
    page = browser_page
    page.goto(page_url)
    page.get_by_label("Open the order assistant").click()
    wait_online(page)
    type_message(page, "I want to cancel my order")
    expect_typing = page.locator("[data-testid=typing]")
    wait_for_bot(page, "order number")
    assert expect_typing.count() == 0
    type_message(page, "8100 0000 0000 0002")
    wait_for_bot(page, "email address")
    type_message(page, EMAIL)
    wait_for_bot(page, "Why do you want to cancel")
    page.screenshot(path=str(ARTIFACTS / "chat-reasons.png"))
    page.get_by_role("button", name="I changed my mind").click()
    wait_for_bot(page, "Shall I send the cancellation request")
    page.screenshot(path=str(ARTIFACTS / "chat-confirm.png"))

    page.reload()
    wait_online(page)
    assert any("Shall I send the cancellation request" in text for text in bot_texts(page))
    page.get_by_role("button", name="Yes, go ahead").click()
    wait_for_bot(page, "sent your cancellation request")
    page.screenshot(path=str(ARTIFACTS / "chat-done.png"))
    requests_rows = stack.store().cancellation_requests("8100000000000002")
    assert len(requests_rows) == 1 and requests_rows[0]["reason"] == "changed_mind"


def test_bot_text_is_never_rendered_as_html(browser_page, page_url, stack):
    page = browser_page
    page.goto(page_url)
    page.get_by_label("Open the order assistant").click()
    wait_online(page)  # the session id is the server's: known once confirmed
    reply_to(page, "hello", "cancel an order")
    session_id = page.evaluate("JSON.parse(sessionStorage.getItem('orderAssistant.v1')).sessionId")
    assert session_id
    hostile = '<img src=x onerror="window.__xss=1"><b>bold</b> see http://127.0.0.1:9/help'
    response = requests.post(
        f"{stack.rasa_url}/conversations/{session_id}/tracker/events",
        params={"output_channel": "latest", "execute_side_effects": "true"},
        json=[{"event": "bot", "text": hostile}],
        timeout=30,
    )
    assert response.ok, response.text
    wait_for_bot(page, re.escape("<b>bold</b>"))
    bubble = page.locator("[data-testid=bot-message]").last
    assert bubble.locator("img").count() == 0 and bubble.locator("b").count() == 0
    assert bubble.locator("a").get_attribute("href") == "http://127.0.0.1:9/help"
    assert page.evaluate("window.__xss") is None


def test_signed_in_buyer_is_not_asked_for_an_email(browser_page, page_url):
    page = browser_page
    page.goto(page_url)
    page.get_by_role("button", name="Sign in as Alex Buyer (demo)").click()
    expect(page.get_by_test_id("account")).to_contain_text("Signed in", timeout=30000)
    page.get_by_label("Open the order assistant").click()
    type_message(page, "I want to cancel my order")
    wait_for_bot(page, "order number|Which order")  # a signed-in buyer may be offered their orders
    type_message(page, "8100000000000008")
    text = wait_for_bot(page, "Why do you want to cancel|email address")
    assert "Why do you want to cancel" in text


def test_make_run_signs_the_demo_buyer_in_out_of_the_box(browser_page, tmp_path):
    """Issue 13, item 6. Old: `scripts/run.sh web` (what `make run` starts) set no
    CUSTOMER_IDENTITY_SECRET, so /api/session answered 403 and the header said "Sign-in is
    not enabled on this server". Now it makes one per run for the page and the action server."""
    rasa_port, actions_port, web_port, console_port = free_port(), free_port(), free_port(), free_port()
    unset = {"CUSTOMER_IDENTITY_SECRET", "ACTION_SERVER_TOKEN", "SUPPORT_AGENTS", "CONSOLE_SESSION_SECRET"}
    env = {key: value for key, value in os.environ.items() if key not in unset | {"HANDOFF_QUEUE", "RASA_API_TOKEN"}}
    env.update(
        RASA_PORT=str(rasa_port),
        ACTIONS_PORT=str(actions_port),
        WEB_PORT=str(web_port),
        CONSOLE_PORT=str(console_port),
        ORDER_DB_PATH=str(tmp_path / "orders.db"),
    )
    log = tmp_path / "run.log"
    run = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "run.sh"), "web"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped whole below
    )
    url = f"http://localhost:{web_port}/"
    try:
        wait_for(url, run, log)
        response = requests.post(f"{url}api/session", timeout=10)
        assert response.status_code == 200, f"{response.status_code} {response.text}"
        assert response.json()["customer_token"].count(".") == 2  # a JWT

        page = browser_page
        page.goto(url)
        page.get_by_role("button", name="Sign in as Alex Buyer (demo)").click()
        expect(page.get_by_test_id("account")).to_have_text("Signed in as Alex Buyer", timeout=10000)
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        open_chat(page)
        wait_online(page)
        type_message(page, "where is order 8100000000000012")
        # The action server of the same run verifies the token: no email is asked for.
        text = wait_for_bot(page, "Power bank|email address")
        page.screenshot(path=str(ARTIFACTS / "chat-run-sh-signed-in.png"))
        assert "Power bank" in text, text
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_test_id("account")).to_have_text("Not signed in")

        # Issue 14: the same run starts the agent console with a demo agent, and hands over.
        password = re.search(r"sign in as agent / (\S+)", log.read_text())[1]
        console = f"http://localhost:{console_port}"
        login = {"username": "agent", "password": password}
        signed = requests.post(f"{console}/api/login", json=login, headers={"Origin": console}, timeout=30)
        assert signed.status_code == 200, signed.text
        type_message(page, "I want to talk to a person")
        wait_for_bot(page, "in the queue")
        queue = requests.get(f"{console}/api/queue", cookies=signed.cookies, timeout=30).json()
        assert len(queue["queue"]) == 1, queue
        assert requests.get(f"{console}/api/queue", timeout=30).status_code == 401
        rasa_api = requests.get(f"http://localhost:{rasa_port}/conversations/x/tracker", timeout=30)
        assert rasa_api.status_code == 401, "Rasa's HTTP API needs the run's token"
    finally:
        os.killpg(run.pid, signal.SIGTERM)
        try:
            run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait(timeout=10)


@pytest.mark.parametrize("secret,status", [("", 403), ("too-short-a-secret", 403), ("s" * 32, 200)])
def test_demo_sign_in_needs_a_secret_the_action_server_accepts(monkeypatch, secret, status):
    """A secret under 32 bytes turns signed identities off in the action server: the page
    server then does not hand out tokens that would be ignored."""
    from scripts.serve_web import make_handler

    monkeypatch.setenv("CUSTOMER_IDENTITY_SECRET", secret)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler("http://127.0.0.1:5005"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        answer = requests.post(f"http://127.0.0.1:{server.server_address[1]}/api/session", timeout=10)
    finally:
        server.shutdown()
    assert answer.status_code == status
    assert ("customer_token" in answer.json()) == (status == 200)


def test_a_second_tab_has_its_own_session(browser_page, page_url):
    """Issue 13, item 7. Old: a tab opened from the chat's tab (window.open, or "Duplicate
    tab") started with a copy of its sessionStorage, so both tabs spoke in one session: the
    replies appeared in both, each buyer message only in its own, and one tab showed answers
    under live buttons with no question above them. Now every tab has its own session."""
    a = browser_page
    a.goto(page_url)
    open_chat(a)
    wait_online(a)
    type_message(a, "I want to cancel my order")
    wait_for_bot(a, "order number")
    type_message(a, "8100 0000 0000 0002")
    wait_for_bot(a, "email address")
    type_message(a, EMAIL)
    wait_for_bot(a, "Why do you want to cancel")
    a_session, a_bots, a_users, a_buttons = session_id(a), bot_texts(a), user_texts(a), live_buttons(a)
    assert a_session and "I changed my mind" in a_buttons

    # A duplicated tab: Chromium copies the opener's sessionStorage into it.
    with a.context.expect_page() as opened:
        a.evaluate("window.open(location.href)")
    b = opened.value
    b.wait_for_load_state()
    open_chat(b)
    wait_online(b)
    # A plain new tab, for good measure.
    c = a.context.new_page()
    c.goto(page_url)
    open_chat(c)
    wait_online(c)
    for tab in (b, c):
        assert bot_texts(tab) == [GREETING] and user_texts(tab) == [], "another tab's chat is shown"
    sessions = {a_session, session_id(b), session_id(c)}
    assert len(sessions) == 3 and None not in sessions, "two tabs share a session"

    type_message(b, "I want to cancel my order")
    wait_for_bot(b, "order number")
    reply_to(c, "hello", "cancel an order")
    b.screenshot(path=str(ARTIFACTS / "chat-second-tab.png"))
    a.wait_for_timeout(1500)  # time for a stray reply to arrive in A
    assert (bot_texts(a), user_texts(a), live_buttons(a)) == (a_bots, a_users, a_buttons), "tab A changed"
    assert session_id(a) == a_session

    # A carries on where it was; B and C see none of it.
    a.get_by_role("button", name="I changed my mind").click()
    wait_for_bot(a, "Shall I send the cancellation request")
    b.wait_for_timeout(1000)
    assert not any("Shall I send" in text for text in bot_texts(b) + bot_texts(c))
    assert user_texts(b) == ["I want to cancel my order"] and user_texts(c) == ["hello"]


def test_phone_layout_is_symmetric_and_bubbles_fit_their_text(browser_page, page_url):
    """Issue 13, item 9. Old: at 390x844 the panel sat 8 px from the left edge and 24 px from
    the right, and every bubble took 85% of the width, even for "hi"."""
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(page_url)
    open_chat(page)
    wait_online(page)
    reply_to(page, "hi", "cancel an order")
    reply_to(page, "I want to cancel my order", "order number")
    page.screenshot(path=str(ARTIFACTS / "chat-mobile.png"))

    panel = page.locator(".oa-panel").bounding_box()
    left, right = panel["x"], PHONE["width"] - (panel["x"] + panel["width"])
    assert abs(left - right) <= 1, f"panel margins: {left} px left, {right} px right"
    assert 0 <= left <= 16 and panel["y"] >= 0 and panel["y"] + panel["height"] <= PHONE["height"]
    launcher = page.get_by_test_id("launcher").bounding_box()
    assert launcher["y"] >= panel["y"] + panel["height"], "the launcher covers the panel"

    log = page.locator(".oa-log").bounding_box()
    hi = page.locator("[data-testid=user-message]", has_text=re.compile("^hi$")).bounding_box()
    assert hi["width"] < 60, f'the bubble for "hi" is {hi["width"]} px wide'
    assert log["x"] + log["width"] - (hi["x"] + hi["width"]) <= 30, "the buyer's bubble is not on the right"
    for bubble in page.locator(".oa-msg").all():
        box = bubble.bounding_box()
        assert box["width"] <= 0.85 * log["width"] + 1, "a bubble is wider than 85% of the log"
        assert box["x"] >= log["x"] and box["x"] + box["width"] <= log["x"] + log["width"]


def test_the_opening_greeting_offers_the_main_choices(browser_page, page_url):
    """Old: the page's greeting had no buttons, so a newcomer had to type."""
    page = browser_page
    page.goto(page_url)
    page.get_by_label(re.compile("open the order assistant", re.I)).click()
    wait_online(page)
    for title in ("Cancel an order", "Where is my order?", "Contact the seller", "Talk to a person"):
        expect(page.get_by_role("button", name=title)).to_be_enabled()
    page.get_by_role("button", name="Cancel an order").click()
    wait_for_bot(page, "order number")


def test_the_buyer_writes_to_the_seller_in_their_own_words(browser_page, page_url, stack):
    """Issue 13, item 3: "Write my own", the whole message shown in the chat, and exactly that sent."""
    page = browser_page
    page.goto(page_url)
    page.get_by_role("button", name="Sign in as Alex Buyer (demo)").click()
    expect(page.get_by_test_id("account")).to_contain_text("Signed in", timeout=30000)
    page.get_by_label("Open the order assistant").click()
    reply_to(page, "contact the seller of order 8100000000000002", "Shall I send it")
    page.get_by_role("button", name="Write my own").click()
    wait_for_bot(page, "Type your message")
    typed = "Hi! Could you ship it before <b>Christmas</b>? It is a gift."
    reply_to(page, typed, "Shall I send it")
    page.screenshot(path=str(ARTIFACTS / "chat-seller-message.png"))
    texts = bot_texts(page)
    start = max(index for index, text in enumerate(texts) if text.startswith("Here is your message"))
    shown = "\n\n".join(texts[start + 1 : len(texts) - 1])
    assert typed in shown and page.locator("[data-testid=bot-message] b").count() == 0
    page.locator(".oa-buttons button:enabled", has_text="Yes, go ahead").click()
    wait_for_bot(page, "Sent")
    assert [row["body"] for row in stack.store().seller_messages("8100000000000002")] == [shown]
