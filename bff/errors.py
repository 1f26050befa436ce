"""Expected failures: one `ErrorCode` for every surface, and the exceptions that carry it."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Why an expected failure happened. Each surface (GraphQL `ErrorCode`, the internal API's
    HTTP statuses) maps the subset its callers can reach."""

    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    # Identity
    EMAIL_TAKEN = "EMAIL_TAKEN"
    WEAK_PASSWORD = "WEAK_PASSWORD"  # noqa: S105 (an error code)
    TERMS_NOT_ACCEPTED = "TERMS_NOT_ACCEPTED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    INVALID_CODE = "INVALID_CODE"
    TWO_FACTOR_ALREADY_ENABLED = "TWO_FACTOR_ALREADY_ENABLED"
    TWO_FACTOR_NOT_ENABLED = "TWO_FACTOR_NOT_ENABLED"
    MEMBER_NOT_FOUND = "MEMBER_NOT_FOUND"
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105 (an error code)
    # Loyalty
    CARD_INVALID_NUMBER = "CARD_INVALID_NUMBER"
    CARD_NOT_FOUND = "CARD_NOT_FOUND"
    CARD_ALREADY_LINKED = "CARD_ALREADY_LINKED"
    CARD_LIMIT_REACHED = "CARD_LIMIT_REACHED"
    CARD_EXISTS = "CARD_EXISTS"
    CARD_INACTIVE = "CARD_INACTIVE"
    CARDS_STILL_LINKED = "CARDS_STILL_LINKED"
    NOT_ENROLLED = "NOT_ENROLLED"
    ALREADY_ENROLLED = "ALREADY_ENROLLED"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    # Rewards and coupons
    OUT_OF_STOCK = "OUT_OF_STOCK"
    REWARD_NOT_AVAILABLE = "REWARD_NOT_AVAILABLE"
    COUPON_NOT_ACTIVE = "COUPON_NOT_ACTIVE"
    COUPON_NOT_FOUND = "COUPON_NOT_FOUND"
    RECEIPT_NOT_FOUND = "RECEIPT_NOT_FOUND"
    RETURN_EXCEEDS_PURCHASE = "RETURN_EXCEEDS_PURCHASE"
    # Offers
    OFFER_NOT_AVAILABLE = "OFFER_NOT_AVAILABLE"


class DomainError(Exception):
    """An expected failure: its `code`, a message for people, and the input field at fault."""

    def __init__(self, code: ErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.message!r}, field={self.field!r})"


class DomainErrors(Exception):  # noqa: N818 (a container of DomainError, not a kind)
    """Several expected failures at once, e.g. every invalid field of a registration."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__("; ".join(error.message for error in errors))
        self.errors = errors
