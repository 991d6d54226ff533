"""The chat page against WCAG 2.1 AA, in headless Chromium (issue 13, item 8): axe-core
(web/node_modules, from npm by `npm ci`) on the open widget mid-conversation, on a desktop
and a phone screen, with zero violations; and what axe cannot see: keyboard use (a quick
reply chosen with Enter leaves the focus in the input, Escape closes the panel), a visible
focus on the input, announced status and typing, 44x44 px touch targets.

axe needs `new Function`, which the page's Content-Security-Policy forbids, so its page is
opened in a context that bypasses the CSP; every other test here runs under the real CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.e2e import test_chat_page as chat_page
from tests.e2e.conftest import ROOT
from tests.e2e.test_chat_page import (
    ARTIFACTS,
    BROWSER_ARGS,
    DESKTOP,
    EMAIL,
    PHONE,
    local_only_context,
    open_chat,
    reply_to,
    wait_online,
)

# The chat page's fixtures: Debian's chromium, the page server, a page under the real CSP.
chromium, page_url, browser_page = chat_page.chromium, chat_page.page_url, chat_page.browser_page

AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENS = {"desktop": DESKTOP, "mobile": PHONE}


def to_the_reasons(page, page_url: str) -> None:
    """Mid-conversation: the bot has just asked why, with a quick reply for each reason."""
    page.goto(page_url)
    open_chat(page)
    wait_online(page)
    reply_to(page, "I want to cancel my order", "order number")
    reply_to(page, "8100 0000 0000 0002", "email address")
    reply_to(page, EMAIL, "Why do you want to cancel")
    expect(page.get_by_role("button", name="I changed my mind")).to_be_enabled()


def focused(page) -> str:
    """What has the focus: its test id, accessible label, or tag and text."""
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            if (!e) return "";
            return e.dataset.testid || e.getAttribute("aria-label")
                || (e.closest(".oa-buttons") ? "quick reply: " : e.tagName + ": ") + e.textContent;
        }"""
    )


@pytest.fixture(params=sorted(SCREENS))
def axe_page(request, chromium, page_url):
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): `make web` installs it (npm ci in web/)")
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=BROWSER_ARGS)
        context = local_only_context(browser, blocked, viewport=SCREENS[request.param], bypass_csp=True)
        page = context.new_page()
        page.screen_name = request.param
        yield page
        context.close()
        browser.close()
    assert blocked == [], f"the page tried to reach the outside: {blocked}"


def test_axe_finds_no_violations_mid_conversation(axe_page, page_url):
    page = axe_page
    to_the_reasons(page, page_url)
    page.screenshot(path=str(ARTIFACTS / f"chat-a11y-{page.screen_name}.png"))
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_21_AA,
    )
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes']][:5]}"
        for v in results["violations"]
    ]
    assert violations == [], "\n".join(violations)
    checked = {rule["id"] for rule in results["passes"]}
    assert {"color-contrast", "button-name", "label", "aria-allowed-attr"} <= checked, checked


def test_a_quick_reply_chosen_with_the_keyboard_leaves_the_focus_in_the_input(browser_page, page_url):
    page = browser_page
    to_the_reasons(page, page_url)
    message = page.get_by_label("Message")
    message.focus()
    for _ in range(12):  # back from the input to the newest quick replies
        page.keyboard.press("Shift+Tab")
        if focused(page).startswith("quick reply"):
            break
    assert focused(page).startswith("quick reply"), f"Shift+Tab never reached a quick reply: {focused(page)}"
    chosen = focused(page).removeprefix("quick reply: ")
    page.keyboard.press("Enter")
    expect(message).to_be_focused()
    expect(page.locator("[data-testid=user-message]").last).to_have_text(chosen)
    # The same after a click.
    no_thanks = page.get_by_role("button", name="No, thanks")
    expect(no_thanks).to_be_enabled(timeout=45000)
    no_thanks.click()
    expect(message).to_be_focused()


def test_escape_closes_the_panel_and_the_launcher_tells_its_state(browser_page, page_url):
    page = browser_page
    page.goto(page_url)
    launcher = page.get_by_test_id("launcher")
    panel = page.locator(".oa-panel")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_have_accessible_name("Chat: open the order assistant")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    expect(page.get_by_label("Message")).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(launcher).to_have_accessible_name("Close the order assistant")
    expect(launcher).to_have_text("Close")

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_have_text("Chat")

    page.keyboard.press("Enter")  # open again, then Escape from a header button
    page.get_by_test_id("end-chat").focus()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()

    launcher.click()
    page.get_by_test_id("close").click()
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()


def test_the_input_shows_where_the_focus_is(browser_page, page_url):
    page = browser_page
    page.goto(page_url)
    open_chat(page)
    message = page.get_by_label("Message")
    message.focus()
    style = message.evaluate(
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }"
    )
    outline_style, outline_width, box_shadow = style
    visible_outline = outline_style != "none" and float(outline_width.removesuffix("px")) >= 2
    assert visible_outline or box_shadow != "none", f"no visible focus on the input: {style}"


def test_status_and_typing_are_announced(browser_page, page_url):
    page = browser_page
    page.goto(page_url)
    open_chat(page)
    wait_online(page)
    expect(page.get_by_test_id("status")).to_have_attribute("role", "status")
    notice = page.get_by_test_id("typing-notice")
    expect(notice).to_have_attribute("role", "status")
    page.get_by_label("Message").fill("I want to cancel my order")
    # Read in the same turn as the send: the reply can come within milliseconds.
    while_waiting = page.evaluate(
        """() => {
            document.querySelector(".oa-form button[type=submit]").click();
            return document.querySelector("[data-testid=typing-notice]").textContent;
        }"""
    )
    assert "typing" in while_waiting
    expect(notice).to_have_text("", timeout=45000)  # cleared by the reply


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_touch_targets_are_at_least_44_px(browser_page, page_url, screen):
    page = browser_page
    page.set_viewport_size(SCREENS[screen])
    to_the_reasons(page, page_url)
    targets = {
        "launcher": page.get_by_test_id("launcher"),
        "close (✕)": page.locator(".oa-header").get_by_role("button", name="Close"),
        "end chat": page.locator(".oa-header").get_by_role("button", name="End chat"),
        "send": page.get_by_role("button", name="Send"),
    }
    for index, button in enumerate(page.locator(".oa-buttons button:enabled").all()):
        targets[f"quick reply {index}"] = button
    small = {}
    for name, target in targets.items():
        box = target.bounding_box()
        if box["width"] < 44 or box["height"] < 44:
            small[name] = (round(box["width"]), round(box["height"]))
    assert small == {}, f"smaller than 44x44 px: {small}"
