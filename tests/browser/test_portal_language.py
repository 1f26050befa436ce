"""The member's language in the portal, in Chromium against the real BFF: sign-up sends the
page's language, the header's switch saves a new one, the profile shows and changes it, and
sign-in brings the saved one back whatever the sign-in page showed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from bff.identity.models import Member
from tests.browser.test_portal import PASSWORD, Portal


@pytest.fixture
async def russian_portal(browser: Browser, portal_url: str) -> AsyncIterator[Portal]:
    """A tab of a browser that asks for Russian."""
    context = await browser.new_context(locale="ru-RU", viewport={"width": 1200, "height": 900})
    yield Portal(await context.new_page(), portal_url)
    await context.close()


async def test_a_language_chosen_while_signed_in_comes_back_at_the_next_sign_in(russian_portal):
    """Signed up in Russian (saved RU), switched to English while signed in (saved EN), signed
    out and the sign-in page put back to Russian: signing in shows English again; the profile
    shows the choice, and saving Russian there switches the page and the saved language."""
    portal = russian_portal
    page = portal.page
    address = "polyglot@example.com"
    await page.goto(portal.base + "/#/sign-up")
    await portal.fill("Эл. почта", address)
    await portal.fill("Пароль", PASSWORD)
    await portal.fill("Имя", "Olga")
    await portal.fill("Фамилия", "Tester")
    await page.get_by_label("Я принимаю правила программы и политику конфиденциальности").check()
    await page.get_by_role("button", name="Зарегистрироваться").click()
    await expect(page.get_by_role("heading", name="Здравствуйте, Olga")).to_be_visible()
    assert (await Member.get(email=address)).language == "ru"

    await portal.go("profile")
    await expect(page.get_by_label("Язык писем и уведомлений")).to_have_value("RU")
    await page.locator("header").get_by_label("Язык").select_option("en")
    await expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    await expect(page.get_by_label("Language of email and notifications")).to_have_value("EN")
    await portal.screen("40-profile-language-english")
    async with asyncio.timeout(5):
        while (await Member.get(email=address)).language != "en":
            await page.wait_for_timeout(50)

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.locator("header").get_by_label("Language").select_option("ru")
    await expect(page.get_by_role("heading", name="Войти")).to_be_visible()
    await portal.fill("Эл. почта", address)
    await portal.fill("Пароль", PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await expect(page.get_by_role("heading", name="Hello, Olga")).to_be_visible()
    assert await page.evaluate("document.documentElement.lang") == "en"
    assert await page.locator("header").get_by_label("Language").input_value() == "en"

    await portal.go("profile")
    await page.get_by_label("Language of email and notifications").select_option("RU")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("heading", name="Профиль")).to_be_visible()
    await expect(page.locator("header").get_by_label("Язык")).to_have_value("ru")
    await expect(page.get_by_label("Язык писем и уведомлений")).to_have_value("RU")
    assert (await Member.get(email=address)).language == "ru"
    await page.reload()
    await expect(page.get_by_role("heading", name="Профиль")).to_be_visible()
    assert portal.csp_violations == []
