"""The one exception type domain code raises for expected failures."""

from __future__ import annotations


class DomainError(Exception):
    """An expected failure: `code` is an `ErrorCode` name, `field` the input field at fault."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
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
