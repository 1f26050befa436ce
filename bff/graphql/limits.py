"""Validation rules that bound what one document may ask for, beyond Strawberry's limiters."""

from __future__ import annotations

from graphql import (
    DocumentNode,
    GraphQLError,
    ValidationRule,
    Visitor,
    visit,
)


class _DirectiveCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_directive(self, *_: object) -> None:
        self.count += 1


def max_directives_rule(limit: int) -> type[ValidationRule]:
    """A rule refusing documents with more than `limit` directives in all.

    Each directive costs validation work (and an error per unknown or repeated one), so a
    document that repeats one directive many times is refused as a whole, this error first.
    """

    class MaxDirectivesRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: object) -> None:
            counter = _DirectiveCounter()
            visit(node, counter)
            if counter.count > limit:
                self.report_error(
                    GraphQLError(
                        f"The document has {counter.count} directives. Allowed: {limit}.",
                        extensions={"code": "TOO_MANY_DIRECTIVES"},
                    )
                )

    return MaxDirectivesRule
