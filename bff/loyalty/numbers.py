"""Card numbers: 13 digits whose last is the GS1 mod-10 check digit (as in an EAN-13 barcode)."""

from __future__ import annotations

import re
import secrets

from bff.errors import DomainError, ErrorCode

NUMBER_LENGTH = 13
# GS1 prefixes 20-29 are reserved for numbers a company issues for its own use.
ISSUER_PREFIX = "29"
_SEPARATORS = re.compile(r"[\s-]+")
_DIGITS = re.compile(r"[0-9]{13}")


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of `body`: weights 3 and 1 alternate from the right."""
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(body[::-1]))
    return (10 - total % 10) % 10


def is_valid_number(number: str) -> bool:
    return bool(_DIGITS.fullmatch(number)) and check_digit(number[:-1]) == int(number[-1])


def normalize_number(raw: str, *, field: str = "number") -> str:
    """The 13 digits of a typed card number (spaces and dashes dropped); CARD_INVALID_NUMBER."""
    number = _SEPARATORS.sub("", raw)
    if not is_valid_number(number):
        raise DomainError(
            ErrorCode.CARD_INVALID_NUMBER,
            "A card number has 13 digits and a valid check digit.",
            field=field,
        )
    return number


def generate_number() -> str:
    body = ISSUER_PREFIX + "".join(
        str(secrets.randbelow(10)) for _ in range(NUMBER_LENGTH - 1 - len(ISSUER_PREFIX))
    )
    return body + str(check_digit(body))
