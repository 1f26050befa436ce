"""The one JSON decoder for what clients send, and text a client can put in JSON but no part of
the BFF can hold: unpaired UTF-16 surrogates and NUL characters.

`decode_json` refuses, as a `json.JSONDecodeError` every caller already answers with a 400 or 422,
values nested deeper than `MAX_JSON_DEPTH` (the standard decoder raises RecursionError near 1,000
levels, and deep values overflow recursive code later on) and integers longer than
`MAX_INT_DIGITS` digits (Python refuses to convert more than 4,300 with a ValueError). Every door
decodes with it: GraphQL over POST, GET `variables` and `extensions`, websocket frames, the
internal API and cursors.

JSON allows `"\\ud800"` on its own, which decodes to a Python str that UTF-8 cannot encode (so
hashing, logging or a database driver raises), and `"\\u0000"`, which PostgreSQL refuses in
text. Requests are checked once where their JSON is decoded, instead of in every field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from graphql import GraphQLError, Source, TokenKind
from graphql.language.lexer import Lexer

_SURROGATE = re.compile("[\ud800-\udfff]")
# How a GraphQL string literal spells a character by its code point: \u0000 or \u{0}.
_UNICODE_ESCAPE = "\\u"

# No GraphQL input of this schema nests anywhere near this deep.
MAX_JSON_DEPTH = 64
# A GraphQL Int has at most 10 digits and amounts travel as strings: 100 digits is generous.
MAX_INT_DIGITS = 100

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


class JSONRefusedError(json.JSONDecodeError):
    """Valid JSON that is too deep or holds too long a number; the message says which."""

    def __init__(self, message: str, document: str | bytes) -> None:
        text = document if isinstance(document, str) else document.decode(errors="replace")
        super().__init__(message, text, 0)
        self.msg = message


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise JSONRefusedError(f"a number has more than {MAX_INT_DIGITS} digits", "")
    return int(digits)


def decode_json(data: str | bytes) -> object:
    """`json.loads`, refusing values nested deeper than MAX_JSON_DEPTH and integers longer than
    MAX_INT_DIGITS digits with a JSONRefusedError (a JSONDecodeError)."""
    try:
        value = json.loads(data, parse_int=_bounded_int)
    except RecursionError:
        raise JSONRefusedError(
            f"the value is nested more than {MAX_JSON_DEPTH} levels deep", data
        ) from None
    except JSONRefusedError as error:
        raise JSONRefusedError(error.msg, data) from None
    except UnicodeDecodeError as error:
        raise json.JSONDecodeError("the body is not UTF-8", "", error.start) from None
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise JSONRefusedError(f"the value is nested more than {MAX_JSON_DEPTH} levels deep", data)
    return value


def _depth_exceeds(value: object, limit: int) -> bool:
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Iterable[object] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
