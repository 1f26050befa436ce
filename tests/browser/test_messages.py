"""Messages in the portal, in Chromium against the real BFF and a real messages worker that
writes each mail to a folder (MAIL_URL=file://): the bell rising live and the list marking read,
forgot password through the mailed link, verifying and changing the email address."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from bff.messages.jobs import running_jobs
from tests.browser.test_portal import AXE_RESULTS, PASSWORD, Portal, sign_up
from tests.conftest import make_settings

MAIL_WAIT_SECONDS = 20


class Mailbox:
    """The worker's mail folder, read the way a member reads their inbox."""

    def __init__(self, folder: Path, portal: str) -> None:
        self.folder = folder
        self.portal = portal

    def _messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for path in sorted(self.folder.glob("*.eml"))
        ]

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [message for message in self._messages() if message["To"] == address]

    def texts(self, address: str) -> list[str]:
        return [message.get_body(("plain",)).get_content() for message in self.to(address)]  # type: ignore[union-attr]

    async def wait_for(self, address: str, text: str) -> None:
        """Until a mail to `address` says `text`."""
        async with asyncio.timeout(MAIL_WAIT_SECONDS):
            while True:
                if any(text in body for body in self.texts(address)):
                    return
                await asyncio.sleep(0.2)

    async def links(self, address: str, path: str, count: int = 1) -> list[str]:
        """The links to `path` mailed to `address` (waits until `count` of them arrived)."""
        pattern = re.compile(re.escape(f"{self.portal}{path}") + r"\?token=[A-Za-z0-9_-]+")
        async with asyncio.timeout(MAIL_WAIT_SECONDS):
            while True:
                found = [link for body in self.texts(address) for link in pattern.findall(body)]
                if len(found) >= count:
                    return found
                await asyncio.sleep(0.2)


@pytest.fixture
async def portal(browser: Browser, portal_url: str) -> AsyncIterator[Portal]:
    context = await browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    yield Portal(await context.new_page(), portal_url)
    await context.close()


@pytest.fixture
async def mailbox(database_url: str, portal_url: str, tmp_path: Path) -> AsyncIterator[Mailbox]:
    """A procrastinate worker beside the server (as `bff worker` runs in production), its
    relay polling every second, its links pointing at the portal under test."""
    settings = make_settings(
        database_url,
        mail_url=f"file://{tmp_path}",
        portal_url=portal_url,
        worker_poll_interval=timedelta(milliseconds=100),
        outbox_relay_interval=timedelta(seconds=1),
    )
    async with running_jobs(settings, work=True):
        yield Mailbox(tmp_path, portal_url)


async def link_card(portal: Portal, label: str) -> str:
    page = portal.page
    card = await portal.till("cards", {})
    await portal.go("cards")
    await portal.fill("Card number (13 digits)", card["number"])
    await portal.fill("Verification code", card["verificationCode"])
    await portal.fill("Name (optional)", label)
    await page.get_by_role("button", name="Link a card").click()
    await expect(page.get_by_test_id("card")).to_have_count(1)
    number: str = card["number"]
    return number


async def buy(portal: Portal, number: str, receipt: str, total: str) -> None:
    await portal.till(
        "purchases",
        {"receiptId": receipt, "cardNumber": number, "storeId": "msk-07", "total": total},
    )


def points(amount: int) -> re.Pattern[str]:
    """The notice's text names the points (in the member's language: the page's at sign-up,
    English here), as a number of its own ("New200 points": no word boundary before it)."""
    return re.compile(rf"(?<!\d){amount}(?!\d)")


async def sign_in(portal: Portal, address: str, password: str, first_name: str) -> None:
    await portal.fill("Email", address)
    await portal.fill("Password", password)
    await portal.page.get_by_role("button", name="Sign in").click()
    await expect(portal.page.get_by_role("heading", name=f"Hello, {first_name}")).to_be_visible()


async def test_the_bell_counts_new_notifications_live_and_the_list_marks_them_read(  # noqa: PLR0915 (one journey)
    portal, mailbox
):
    page: Page = portal.page
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(str(data))))
    await sign_up(portal, "bell@example.com", "Bella")
    bell = page.get_by_test_id("bell")
    await expect(bell).to_have_attribute("aria-label", "Notifications: nothing new")
    number = await link_card(portal, "Bag")
    await portal.go("dashboard")
    await page.wait_for_timeout(500)  # the subscriptions are set up

    # A purchase at a till credits points: the worker files the notice, the bell counts it live.
    await buy(portal, number, "N-1", "1000.00")
    await expect(page.get_by_test_id("bell-count")).to_have_text("1")
    await expect(bell).to_have_attribute("aria-label", "Notifications: 1 unread")
    assert any('"notificationReceived"' in frame for frame in frames)
    await buy(portal, number, "N-2", "2000.00")
    await expect(page.get_by_test_id("bell-count")).to_have_text("2")
    await expect(page.get_by_test_id("points-pending")).to_have_text("300")
    await portal.screen("27-bell-unread")

    # Opening the list shows them newest first and marks them read: the count goes.
    await bell.click()
    await expect(page.get_by_role("heading", name="Notifications", exact=True)).to_be_visible()
    items = page.get_by_test_id("notification")
    await expect(items).to_have_count(2)
    await expect(items.nth(0)).to_contain_text(points(200))
    await expect(items.nth(1)).to_contain_text(points(100))
    await expect(items.nth(0)).to_contain_text("Points credited")
    # Signed up on an English page: the server's text is English too.
    await expect(items.nth(0)).to_contain_text("200 points were credited to your account.")
    await expect(items.locator(".badge.new")).to_have_count(2)
    await expect(page.get_by_test_id("bell-count")).to_have_count(0)
    await expect(bell).to_have_attribute("aria-label", "Notifications: nothing new")

    # One arriving while the list is open comes in on top, and is read at once.
    await buy(portal, number, "N-3", "3000.00")
    await expect(items).to_have_count(3)
    await expect(items.nth(0)).to_contain_text(points(300))
    await expect(bell).to_have_attribute("aria-label", "Notifications: nothing new")
    await portal.screen("28-notifications")

    # Read stays read: after a reload nothing is new.
    await page.reload()
    await expect(items).to_have_count(3)
    await expect(items.locator(".badge.new")).to_have_count(0)

    # Paged: twenty at a time, newest first, the rest on "Show more".
    await portal.go("dashboard")
    for receipt in range(4, 23):
        await buy(portal, number, f"N-{receipt}", "100.00")
    await expect(page.get_by_test_id("bell-count")).to_have_text("19")
    await bell.click()
    await expect(items).to_have_count(20)
    await page.get_by_role("button", name="Show more").click()
    await expect(items).to_have_count(22)
    await expect(items.nth(21)).to_contain_text(points(100))
    await expect(page.get_by_test_id("bell-count")).to_have_count(0)

    # "Mark all as read" covers the ones no page showed yet.
    await portal.go("dashboard")
    for receipt in range(23, 45):
        await buy(portal, number, f"N-{receipt}", "100.00")
    await expect(page.get_by_test_id("bell-count")).to_have_text("22")
    await bell.click()
    await expect(items).to_have_count(20)
    await expect(page.get_by_test_id("bell-count")).to_have_text("2")
    await page.get_by_role("button", name="Mark all as read").click()
    await expect(page.get_by_test_id("bell-count")).to_have_count(0)
    await expect(page.get_by_role("button", name="Mark all as read")).to_have_count(0)
    assert portal.csp_violations == []


async def test_a_forgotten_password_is_reset_through_the_mailed_link(portal, mailbox):  # noqa: PLR0915 (one journey)
    page: Page = portal.page
    await sign_up(portal, "forgetful@example.com", "Fedor")
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("link", name="Forgot your password?").click()
    await expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()

    # The same answer for an address nobody uses and for a member's.
    answers = []
    for address in ("nobody-at-all@example.com", "forgetful@example.com"):
        await portal.fill("Email", address)
        await page.get_by_role("button", name="Send the link").click()
        sent = page.get_by_role("status")
        await expect(sent).to_contain_text(address)
        answers.append((await sent.inner_text()).replace(address, "ADDRESS"))
    assert answers[0] == answers[1]
    await portal.screen("29-forgot-password")
    [link] = await mailbox.links("forgetful@example.com", "/reset-password")
    assert mailbox.to("nobody-at-all@example.com") == []

    # The link opens the portal's reset page; a weak password is refused beside its field.
    async with httpx.AsyncClient() as http:
        served = await http.get(link)
    assert served.status_code == 200
    assert served.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in served.headers["content-security-policy"]
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    await expect(page.get_by_role("navigation")).to_have_count(0)
    await portal.fill("New password", "short")
    await page.get_by_role("button", name="Save the new password").click()
    await expect(page.locator(".field-error")).to_contain_text("at least 15")
    await expect(page.get_by_label("New password", exact=True)).to_have_value("short")
    await portal.screen("30-reset-password-refused")
    await portal.fill("New password", "a forgotten and found passphrase")
    await page.get_by_role("button", name="Save the new password").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Your password is changed and every device was signed out. Sign in with the new password."
    )
    assert "token" not in page.url

    # Signed in with the new password; the old one no longer opens the account.
    await page.get_by_role("link", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await portal.fill("Email", "forgetful@example.com")
    await portal.fill("Password", PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text("The email or password is wrong.")).to_be_visible()
    await sign_in(portal, "forgetful@example.com", "a forgotten and found passphrase", "Fedor")

    # The reset is a security notice: in the bell, marked as such.
    await expect(page.get_by_test_id("bell-count")).to_have_text("1")
    await page.get_by_test_id("bell").click()
    notice = page.get_by_test_id("notification")
    await expect(notice).to_contain_text("Password changed")
    await expect(notice.locator(".badge.security")).to_have_text("Security")

    # A spent link says so and offers a new one.
    await page.goto(link)
    await portal.fill("New password", "yet another long passphrase here")
    await page.get_by_role("button", name="Save the new password").click()
    await expect(page.get_by_role("alert")).to_contain_text("This link is no longer valid")
    await expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()
    await page.goto(portal.base + "/reset-password")
    await expect(page.get_by_role("alert")).to_contain_text("This link is incomplete.")
    assert portal.csp_violations == []


async def test_a_member_verifies_the_email_and_changes_it_through_the_mailed_links(  # noqa: PLR0915 (one journey)
    portal, mailbox
):
    page: Page = portal.page
    await sign_up(portal, "first@example.com", "Vera")

    # Privacy: what each channel and group means; security notices cannot be switched off;
    # marketing mail waits for a verified address.
    await portal.go("privacy")
    await expect(page.get_by_test_id("channels")).to_contain_text("Email: to first@example.com.")
    await expect(page.get_by_test_id("marketing-unverified")).to_be_visible()
    security = page.get_by_role("group", name="Security notices")
    await expect(security).to_contain_text("cannot be switched off")
    for channel in ("Email", "Push"):
        switch = security.get_by_role("switch", name=channel)
        await expect(switch).to_be_checked()
        await expect(switch).to_be_disabled()
    marketing_email = page.get_by_role("group", name="Marketing").get_by_role(
        "switch", name="Email"
    )
    await expect(marketing_email).to_be_enabled()
    await portal.screen("31-privacy-explained")

    # Profile: not verified yet; the link sent again.
    await portal.go("profile")
    await expect(page.get_by_test_id("email-verified")).to_have_text("Not verified")
    await page.get_by_role("button", name="Send the link again").click()
    await expect(page.get_by_role("status")).to_contain_text("Sent")
    await portal.screen("32-profile-email-unverified")
    links = await mailbox.links("first@example.com", "/verify-email", count=2)
    await page.goto(links[-1])
    await expect(page.get_by_role("heading", name="Verify your email")).to_be_visible()
    await page.get_by_role("button", name="Verify my email").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Thank you: first@example.com is verified."
    )
    await page.get_by_role("link", name="Go to the portal").click()
    await expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    await expect(page.get_by_test_id("email-verified")).to_have_text("Verified")

    # Change: the password is asked for; a link goes to the new address, a notice to the old.
    await portal.fill("New email", "second@example.com")
    await portal.fill("Password", "not the password at all")
    await page.get_by_role("button", name="Change email").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await expect(page.get_by_label("New email", exact=True)).to_have_value("second@example.com")
    await portal.fill("Password", PASSWORD)
    await page.get_by_role("button", name="Change email").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Check second@example.com: open the link there to finish. "
        "Until then, sign in with first@example.com."
    )
    await expect(page.get_by_test_id("email")).to_have_text("first@example.com")
    [confirm] = await mailbox.links("second@example.com", "/confirm-email")
    await mailbox.wait_for("first@example.com", "second@example.com")

    await page.goto(confirm)
    await expect(page.get_by_role("heading", name="Confirm your new email")).to_be_visible()
    await portal.screen("33-confirm-email")
    await page.get_by_role("button", name="Use this address").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Your email is now second@example.com. Sign in with it from now on."
    )
    await page.get_by_role("link", name="Go to the portal").click()
    await expect(page.get_by_test_id("email")).to_have_text("second@example.com")
    await expect(page.get_by_test_id("email-verified")).to_have_text("Verified")

    # Signed out, only the new address signs in.
    await page.get_by_role("button", name="Sign out").click()
    await portal.fill("Email", "first@example.com")
    await portal.fill("Password", PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text("The email or password is wrong.")).to_be_visible()
    await sign_in(portal, "second@example.com", PASSWORD, "Vera")

    # The same screens in Russian.
    await page.get_by_label("Language").select_option("ru")
    await page.click("nav a[href='#/privacy']")
    await expect(page.get_by_role("group", name="Уведомления безопасности")).to_contain_text(
        "отключить их нельзя"
    )
    await portal.screen("34-privacy-russian")
    assert portal.csp_violations == []
    print(f"axe-core violations per screen: {json.dumps(AXE_RESULTS)}")  # noqa: T201
