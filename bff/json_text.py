"""Text a client can put in JSON but no part of the BFF can hold: unpaired UTF-16 surrogates and
NUL characters.

JSON allows `"\\ud800"` on its own, which decodes to a Python str that UTF-8 cannot encode (so
hashing, logging or a database driver raises), and `"\\u0000"`, which PostgreSQL refuses in
text. Requests are checked once where their JSON is decoded, instead of in every field.
"""

from __future__ import annotations

import re

from graphql import GraphQLError, Source, TokenKind
from graphql.language.lexer import Lexer

_SURROGATE = re.compile("[\ud800-\udfff]")
# How a GraphQL string literal spells a character by its code point: \u0000 or \u{0}.
_UNICODE_ESCAPE = "\\u"

UNPAIRED_SURROGATE = "an unpaired UTF-16 surrogate (such as \\ud800), which is not text"
NUL = "a NUL character (\\u0000), which no field accepts"


def text_problem(text: str, *, refuse_nul: bool) -> str | None:
    """What is wrong with `text`, or None."""
    if not text.isascii() and _SURROGATE.search(text):
        return UNPAIRED_SURROGATE
    if refuse_nul and "\x00" in text:
        return NUL
    return None


def json_problem(value: object, *, refuse_nul: bool) -> str | None:
    """The first problem in any string (object keys included) of a decoded JSON value."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if problem := text_problem(item, refuse_nul=refuse_nul):
                return problem
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def document_literal_problem(document: str) -> str | None:
    """A NUL written as an escape inside a string literal of a GraphQL document.

    The document's own characters are checked with `text_problem`; an escaped unpaired surrogate
    is already a syntax error of the GraphQL lexer. Only documents that contain an escape are
    lexed, so ordinary operations cost nothing more.
    """
    if _UNICODE_ESCAPE not in document:
        return None
    lexer = Lexer(Source(document))
    try:
        token = lexer.advance()
        while token.kind is not TokenKind.EOF:
            if token.kind is TokenKind.STRING and "\x00" in (token.value or ""):
                return NUL
            token = lexer.advance()
    except GraphQLError:
        return None  # the parser reports it as the syntax error it is
    return None
