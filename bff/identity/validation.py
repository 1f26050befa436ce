"""Cleaning of identity input: email, E.164 phone, INN, names."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from bff.errors import DomainError, DomainErrors, ErrorCode

NAME_MAX_LENGTH = 100
COMPANY_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 320
# Official INN check-digit weights (Federal Tax Service order No. BG-3-09/178).
_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_LENGTHS = (10, 12)


def normalise_email(value: str, *, field: str = "email") -> str:
    """The address in its one stored form: syntax-checked, IDNA domain, all lower case."""
    candidate = value.strip()
    if len(candidate) > EMAIL_MAX_LENGTH:
        raise DomainError(ErrorCode.INVALID_INPUT, "This email address is too long.", field=field)
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as error:
        raise DomainError(ErrorCode.INVALID_INPUT, str(error), field=field) from None
    return checked.normalized.lower()


def normalise_phone(value: str, *, field: str = "phone") -> str:
    """The number in E.164 (`+79123456789`); it must carry its country code."""
    try:
        number = phonenumbers.parse(value.strip(), None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Enter a valid phone number with its country code, e.g. +79123456789.",
            field=field,
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def is_valid_inn(inn: str) -> bool:
    """A 10-digit (organisation) or 12-digit (person) INN whose check digits are right."""
    if not inn.isascii() or not inn.isdigit() or len(inn) not in _INN_LENGTHS:
        return False
    if len(inn) == _INN_LENGTHS[0]:
        return _check_digit(inn, _INN10_WEIGHTS) == int(inn[9])
    return _check_digit(inn, _INN12_WEIGHTS_11) == int(inn[10]) and _check_digit(
        inn, _INN12_WEIGHTS_12
    ) == int(inn[11])


def normalise_tax_id(value: str, *, field: str = "taxId") -> str:
    inn = value.strip().replace(" ", "")
    if not is_valid_inn(inn):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "An INN has 10 or 12 digits and valid check digits.",
            field=field,
        )
    return inn


def clean_text(value: str, *, field: str, max_length: int, label: str) -> str:
    """Trimmed, inner whitespace runs collapsed, bounded and printable; may be empty."""
    text = " ".join(value.split())
    if len(text) > max_length:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"The {label} is at most {max_length} characters.", field=field
        )
    if not text.isprintable():
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"The {label} has invalid characters.", field=field
        )
    return text


def clean_name(value: str, *, field: str, label: str) -> str:
    name = clean_text(value, field=field, max_length=NAME_MAX_LENGTH, label=label)
    if not name:
        raise DomainError(ErrorCode.INVALID_INPUT, f"Enter your {label}.", field=field)
    return name


def clean_company(value: str, *, field: str = "companyName") -> str | None:
    company = clean_text(value, field=field, max_length=COMPANY_MAX_LENGTH, label="company name")
    return company or None


def _unless_blank(check: Callable[[str], str]) -> Callable[[str], str | None]:
    """An optional field: blank means none."""
    return lambda value: check(value) if value.strip() else None


# How each member field is cleaned, at registration and in updateProfile alike.
MEMBER_FIELDS: dict[str, Callable[[str], str | None]] = {
    "email": normalise_email,
    "first_name": lambda value: clean_name(value, field="firstName", label="first name"),
    "last_name": lambda value: clean_name(value, field="lastName", label="last name"),
    "phone": _unless_blank(normalise_phone),
    "company_name": clean_company,
    "tax_id": _unless_blank(normalise_tax_id),
}


def clean_member_fields(
    values: Mapping[str, str | None], *, more_errors: tuple[DomainError, ...] = ()
) -> dict[str, str | None]:
    """Each given field (None: not given) cleaned by its MEMBER_FIELDS rule; every problem, with
    `more_errors` after them, raised together as DomainErrors."""
    errors: list[DomainError] = []
    cleaned: dict[str, str | None] = {}
    for name, value in values.items():
        if value is None:
            continue
        try:
            cleaned[name] = MEMBER_FIELDS[name](value)
        except DomainError as error:
            errors.append(error)
    errors.extend(more_errors)
    if errors:
        raise DomainErrors(errors)
    return cleaned
