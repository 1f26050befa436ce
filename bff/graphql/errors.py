"""Expected errors as data (`UserError` with an `ErrorCode`), unexpected ones masked and logged."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from typing import ParamSpec, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from bff.errors import DomainError, DomainErrors, ErrorCode
from bff.logging import request_id_var

logger = logging.getLogger("bff.graphql")

P = ParamSpec("P")
R = TypeVar("R")


@strawberry.enum(name="ErrorCode")
class GraphQLErrorCode(Enum):
    """The codes of `userErrors`: the subset of the domain's `ErrorCode` that GraphQL resolvers
    can reach (tests/test_architecture.py checks it), each standing for the domain's member."""

    INVALID_INPUT = ErrorCode.INVALID_INPUT
    EMAIL_TAKEN = ErrorCode.EMAIL_TAKEN
    WEAK_PASSWORD = ErrorCode.WEAK_PASSWORD
    TERMS_NOT_ACCEPTED = ErrorCode.TERMS_NOT_ACCEPTED
    INVALID_CREDENTIALS = ErrorCode.INVALID_CREDENTIALS
    TOO_MANY_ATTEMPTS = ErrorCode.TOO_MANY_ATTEMPTS
    INVALID_CODE = ErrorCode.INVALID_CODE
    TWO_FACTOR_ALREADY_ENABLED = ErrorCode.TWO_FACTOR_ALREADY_ENABLED
    TWO_FACTOR_NOT_ENABLED = ErrorCode.TWO_FACTOR_NOT_ENABLED
    CARD_INVALID_NUMBER = ErrorCode.CARD_INVALID_NUMBER
    CARD_NOT_FOUND = strawberry.enum_value(
        ErrorCode.CARD_NOT_FOUND,
        description="Unknown card number or wrong verification code (one code for both).",
    )
    CARD_ALREADY_LINKED = ErrorCode.CARD_ALREADY_LINKED
    CARD_LIMIT_REACHED = ErrorCode.CARD_LIMIT_REACHED
    CARDS_STILL_LINKED = strawberry.enum_value(
        ErrorCode.CARDS_STILL_LINKED, description="optOut while cards are still linked."
    )
    NOT_ENROLLED = ErrorCode.NOT_ENROLLED
    ALREADY_ENROLLED = ErrorCode.ALREADY_ENROLLED
    OFFER_NOT_AVAILABLE = ErrorCode.OFFER_NOT_AVAILABLE
    NOT_FOUND = ErrorCode.NOT_FOUND
    INSUFFICIENT_POINTS = ErrorCode.INSUFFICIENT_POINTS
    OUT_OF_STOCK = ErrorCode.OUT_OF_STOCK
    REWARD_NOT_AVAILABLE = ErrorCode.REWARD_NOT_AVAILABLE
    COUPON_NOT_ACTIVE = strawberry.enum_value(
        ErrorCode.COUPON_NOT_ACTIVE, description="The coupon is used, expired or cancelled."
    )
    IDEMPOTENCY_CONFLICT = strawberry.enum_value(
        ErrorCode.IDEMPOTENCY_CONFLICT,
        description="The same idempotency key with a different request.",
    )
    INVALID_TOKEN = strawberry.enum_value(
        ErrorCode.INVALID_TOKEN, description="An unknown, used or expired email or reset token."
    )


@strawberry.type
class UserError:
    field: list[str] | None = strawberry.field(
        description=(
            'Path to the input field at fault, e.g. ["input", "email"]; '
            "null when no single field is."
        )
    )
    code: GraphQLErrorCode
    message: str


def user_error(error: DomainError) -> UserError:
    """The client-facing form of a domain error; field paths start at the mutation's `input`
    argument (every mutation takes its arguments as one `input`)."""
    path = ["input", error.field] if error.field else None
    return UserError(field=path, code=GraphQLErrorCode[error.code.name], message=error.message)


def returns_user_errors(
    payload: Callable[..., R],
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Make a mutation resolver answer `payload(user_errors=[...])` when the domain raises a
    DomainError or DomainErrors: expected failures are data, not top-level errors.

    Put it under `@strawberry.mutation`; the resolver's signature is kept for Strawberry.
    """

    def decorate(resolver: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(resolver)
        async def resolve(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await resolver(*args, **kwargs)
            except DomainErrors as failures:
                return payload(user_errors=[user_error(error) for error in failures.errors])
            except DomainError as error:
                return payload(user_errors=[user_error(error)])

        return resolve

    return decorate


SIGN_IN_TO_SEE = "Sign in to see this field."


class UnauthenticatedError(GraphQLError):
    """A field that needs a member was asked without a valid session (see `IsMember`)."""

    def __init__(self, message: str = SIGN_IN_TO_SEE) -> None:
        super().__init__(message, extensions={"code": "UNAUTHENTICATED"})


def is_unexpected(error: GraphQLError) -> bool:
    """An error that came from a bug or a failing dependency, not from the request itself.

    Parse, validation and variable errors are GraphQL's own (no original error, or a value that
    failed a scalar's parsing, reported against the document's nodes without a path); errors
    raised on purpose are GraphQLErrors (UNAUTHENTICATED) or DomainErrors. Anything else raised
    while resolving a field (it has a path), or outside any node, is unexpected.
    """
    original = error.original_error
    if original is None or isinstance(original, GraphQLError | DomainError):
        return False
    return error.path is not None or not error.nodes


def log_errors(errors: Sequence[GraphQLError]) -> None:
    """Unexpected errors with their stack; the client's mistakes at debug level only."""
    for error in errors:
        if is_unexpected(error):
            logger.error(
                "unexpected error at %s: %s",
                ".".join(map(str, error.path or ())) or "-",
                error.message,
                exc_info=error.original_error,
            )
        else:
            logger.debug("GraphQL error: %s", error.message)


class MaskUnexpectedErrors(MaskErrors):
    """Unexpected errors become one generic message naming the request id (to find the log
    line); DomainErrors that escape a resolver keep their message and code; the rest (syntax,
    validation, variables, UNAUTHENTICATED) pass unchanged, so they stay readable."""

    def __init__(self) -> None:
        super().__init__(
            should_mask_error=lambda error: (
                is_unexpected(error) or isinstance(error.original_error, DomainError)
            )
        )

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            return GraphQLError(
                original.message,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": original.code, "field": original.field},
            )
        request_id = request_id_var.get()
        return GraphQLError(
            f"Unexpected error. Quote request id {request_id} when you report it.",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )
