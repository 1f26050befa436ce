"""What each message says, in Russian and English: a title and a body, and the mail built
from them (plain text and HTML)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from bff.identity.models import Language
from bff.outbox import MessageKind

LANGUAGES = tuple(language.value for language in Language)
DEFAULT_LANGUAGE = Language.RU.value


@dataclass(frozen=True)
class Text:
    title: str
    body: str


# Bodies are str.format templates over the message's params (and `link` for the mails with one).
TEXTS: dict[MessageKind, dict[str, Text]] = {
    MessageKind.POINTS_CREDITED: {
        "ru": Text("Начислены баллы", "На ваш счёт начислено баллов: {points}."),
        "en": Text("Points credited", "{points} points were credited to your account."),
    },
    MessageKind.POINTS_EXPIRING: {
        "ru": Text("Баллы скоро сгорят", "Баллов сгорит {date}: {points}. Успейте потратить."),
        "en": Text("Points expiring soon", "{points} points expire on {date}. Use them in time."),
    },
    MessageKind.CARD_STATUS_CHANGED: {
        "ru": Text("Статус карты изменён", "Карта …{cardEnding} теперь: {status}."),
        "en": Text("Card status changed", "Card …{cardEnding} is now {status}."),
    },
    MessageKind.PERSONAL_OFFER: {
        "ru": Text("Персональное предложение", "Для вас новое предложение: {title}."),
        "en": Text("A personal offer", "A new offer for you: {title}."),
    },
    MessageKind.TIER_CHANGED: {
        "ru": Text("Новый уровень", "Ваш уровень в программе теперь: {tier}."),
        "en": Text("Your tier changed", "Your tier in the program is now {tier}."),
    },
    MessageKind.COUPON_ISSUED: {
        "ru": Text("Новый купон", "Вам выдан купон: {title}."),
        "en": Text("A new coupon", "You have a new coupon: {title}."),
    },
    MessageKind.NEW_SIGN_IN: {
        "ru": Text(
            "Вход с нового устройства",
            "В ваш аккаунт вошли с нового устройства ({device}). Если это были не вы, "
            "смените пароль и завершите чужие сеансы.",
        ),
        "en": Text(
            "New sign-in",
            "Someone signed in to your account from a new device ({device}). If it was not "
            "you, change your password and end the other sessions.",
        ),
    },
    MessageKind.PASSWORD_CHANGED: {
        "ru": Text(
            "Пароль изменён",
            "Пароль вашего аккаунта изменён. Если это были не вы, восстановите доступ.",
        ),
        "en": Text(
            "Password changed",
            "The password of your account was changed. If it was not you, reset it now.",
        ),
    },
    MessageKind.TWO_FACTOR_DISABLED: {
        "ru": Text(
            "Двухфакторная защита выключена",
            "Двухфакторная аутентификация вашего аккаунта выключена.",
        ),
        "en": Text(
            "Two-factor authentication off",
            "Two-factor authentication of your account was turned off.",
        ),
    },
    MessageKind.EMAIL_CHANGE_REQUESTED: {
        "ru": Text(
            "Запрошена смена адреса",
            "Запрошена смена адреса почты аккаунта на {newEmail}. Пока новый адрес не "
            "подтверждён, действует этот. Если это были не вы, смените пароль.",
        ),
        "en": Text(
            "Email change requested",
            "A change of your account's email to {newEmail} was requested. This address "
            "stays until the new one is confirmed. If it was not you, change your password.",
        ),
    },
    MessageKind.EMAIL_VERIFICATION: {
        "ru": Text(
            "Подтвердите адрес почты",
            "Чтобы подтвердить адрес, откройте ссылку (действует 24 часа): {link}",
        ),
        "en": Text(
            "Confirm your email", "To confirm this address, open the link (valid 24 hours): {link}"
        ),
    },
    MessageKind.PASSWORD_RESET: {
        "ru": Text(
            "Восстановление пароля",
            "Чтобы задать новый пароль, откройте ссылку (действует 30 минут): {link}. "
            "Если вы не просили об этом, ничего не делайте.",
        ),
        "en": Text(
            "Reset your password",
            "To set a new password, open the link (valid 30 minutes): {link}. "
            "If you did not ask for this, do nothing.",
        ),
    },
    MessageKind.EMAIL_CHANGE_CONFIRMATION: {
        "ru": Text(
            "Подтвердите новый адрес",
            "Чтобы сделать этот адрес адресом аккаунта, откройте ссылку (действует 24 часа): "
            "{link}",
        ),
        "en": Text(
            "Confirm your new email",
            "To make this your account's address, open the link (valid 24 hours): {link}",
        ),
    },
}

_UNSUBSCRIBE = {
    "ru": "Отписаться от рекламных писем: {url}",
    "en": "Unsubscribe from offers by mail: {url}",
}


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def render(kind: MessageKind, language: str, params: dict[str, Any]) -> Text:
    """The title and body of `kind` in `language`; a missing param reads as empty."""
    text = TEXTS[kind][language_of(language)]
    return Text(text.title, text.body.format_map(_Params(params)))


def email_message(
    *,
    kind: MessageKind,
    language: str,
    params: dict[str, Any],
    sender: str,
    to: str,
    unsubscribe_url: str | None = None,
) -> EmailMessage:
    """The mail: plain text and HTML alternatives; marketing carries RFC 8058 one-click
    unsubscribe headers and a link."""
    text = render(kind, language, params)
    paragraphs = [text.body]
    if unsubscribe_url is not None:
        paragraphs.append(_UNSUBSCRIBE[language_of(language)].format(url=unsubscribe_url))
    message = EmailMessage()
    message["Subject"] = text.title
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    if unsubscribe_url is not None:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content("\n\n".join(paragraphs) + "\n")
    link = params.get("link")
    html_paragraphs = []
    for paragraph in paragraphs:
        escaped = html.escape(paragraph)
        for url in (link, unsubscribe_url):
            if url:
                quoted = html.escape(url)
                escaped = escaped.replace(quoted, f'<a href="{quoted}">{quoted}</a>')
        html_paragraphs.append(f"<p>{escaped}</p>")
    body = "".join(html_paragraphs)
    message.add_alternative(
        f'<!doctype html><html lang="{language_of(language)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(text.title)}</title></head><body>{body}</body></html>\n",
        subtype="html",
    )
    # After the content: setting it clears Content-* headers.
    message["Content-Language"] = language_of(language)
    return message
