"""Schemathesis hooks for `make fuzz` (loaded through SCHEMATHESIS_HOOKS=fuzz.hooks).

Schemathesis's own `not_a_server_error` also counts every GraphQL error with a `path` as a
server failure, but this API answers some bad input to queries that way by design (a foreign
cursor is an `INVALID_INPUT` error; mutations use `userErrors`). A server error here is what the
issue means by one: an HTTP 5xx, or an unexpected exception that the schema masked as
`INTERNAL_SERVER_ERROR`.
"""

from __future__ import annotations

from typing import Any

import schemathesis

UNEXPECTED = "INTERNAL_SERVER_ERROR"


@schemathesis.check
def bff_no_server_error(ctx: Any, response: Any, case: Any) -> None:
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise AssertionError("the answer is not JSON") from None
    for item in body if isinstance(body, list) else [body]:
        for error in (item or {}).get("errors") or []:
            if (error.get("extensions") or {}).get("code") == UNEXPECTED:
                raise AssertionError(f"masked unexpected error at {error.get('path')}")
