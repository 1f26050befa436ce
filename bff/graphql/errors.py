"""Expected errors as data (`UserError` with an `ErrorCode`), unexpected ones masked and logged."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING

import strawberry
from graphql import GraphQLError

from bff.errors import DomainError

if TYPE_CHECKING:
    from bff.graphql.context import Info

logger = logging.getLogger("bff.graphql")


@strawberry.enum
class ErrorCode(Enum):
    INVALID_INPUT = "INVALID_INPUT"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    WEAK_PASSWORD = "WEAK_PASSWORD"  # noqa: S105 (an error code)
    TERMS_NOT_ACCEPTED = "TERMS_NOT_ACCEPTED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    INVALID_CODE = "INVALID_CODE"
    TWO_FACTOR_ALREADY_ENABLED = "TWO_FACTOR_ALREADY_ENABLED"
    TWO_FACTOR_NOT_ENABLED = "TWO_FACTOR_NOT_ENABLED"
    CARD_INVALID_NUMBER = "CARD_INVALID_NUMBER"
    CARD_NOT_FOUND = strawberry.enum_value(
        "CARD_NOT_FOUND",
        description="Unknown card number or wrong verification code (one code for both).",
    )
    CARD_ALREADY_LINKED = "CARD_ALREADY_LINKED"
    CARD_LIMIT_REACHED = "CARD_LIMIT_REACHED"
    CARDS_STILL_LINKED = strawberry.enum_value(
        "CARDS_STILL_LINKED", description="optOut while cards are still linked."
    )
    NOT_ENROLLED = "NOT_ENROLLED"
    ALREADY_ENROLLED = "ALREADY_ENROLLED"
    OFFER_NOT_AVAILABLE = "OFFER_NOT_AVAILABLE"
    NOT_FOUND = "NOT_FOUND"


@strawberry.type
class UserError:
    field: list[str] | None = strawberry.field(
        description=(
            'Path to the input field at fault, e.g. ["input", "email"]; '
            "null when no single field is."
        )
    )
    code: ErrorCode
    message: str


def user_error(error: DomainError, *, input_name: str = "input") -> UserError:
    """The client-facing form of a domain error; field paths are prefixed with the argument."""
    path = [input_name, error.field] if error.field else None
    return UserError(field=path, code=ErrorCode(error.code), message=error.message)


def user_errors(errors: Sequence[DomainError], *, input_name: str = "input") -> list[UserError]:
    return [user_error(error, input_name=input_name) for error in errors]


class UnauthenticatedError(GraphQLError):
    """A field that needs a member was asked without a valid session."""

    def __init__(self) -> None:
        super().__init__("Sign in to see this field.", extensions={"code": "UNAUTHENTICATED"})


def request_id_of(info: Info) -> str:
    return info.context.request_id
