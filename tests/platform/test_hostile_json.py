"""JSON nested a thousand levels deep, or an integer of thousands of digits, is a clear 400 or 422
at every door (one decoder, bff.json_text.decode_json), never a 500 with a stack trace."""

from __future__ import annotations

import json
import logging

import pytest

from bff.json_text import MAX_JSON_DEPTH, decode_json
from tests.conftest import INTERNAL_API_KEY

DEEP = "[" * 1000 + "]" * 1000
JUST_TOO_DEEP = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
HUGE_INT = "9" * 5000
HOSTILE = {"deep": DEEP, "just-too-deep": JUST_TOO_DEEP, "huge-int": HUGE_INT}
QUERY = "query Q($a: String) { __typename }"


@pytest.fixture
def server_errors(caplog):
    """Records logged at ERROR or above while the test runs (a 500 logs its stack trace)."""
    caplog.set_level(logging.ERROR)
    return lambda: [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize(
    "body",
    [
        '{"query": "%s", "variables": {"a": %s}}',
        '{"query": "%s", "extensions": {"a": %s}}',
        '[{"query": "%s", "variables": {"a": %s}}]',
    ],
    ids=["variables", "extensions", "top-level-array"],
)
async def test_a_deep_or_huge_value_posted_to_graphql_is_a_400(client, server_errors, body, value):
    response = await client.post(
        "/graphql",
        content=body % (QUERY, value),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["message"].startswith("The request's JSON is refused: ")
    assert server_errors() == []


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("parameter", ["variables", "extensions"])
async def test_a_deep_or_huge_value_in_a_get_parameter_is_a_400(
    client, server_errors, parameter, value
):
    response = await client.get("/graphql", params={"query": QUERY, parameter: f'{{"a": {value}}}'})

    assert response.status_code == 400
    assert "refused" in response.json()["errors"][0]["message"]
    assert server_errors() == []


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("path", ["/internal/v1/purchases", "/internal/v1/cards"])
async def test_a_deep_or_huge_value_sent_to_the_internal_api_is_a_422(
    client, server_errors, path, value
):
    response = await client.post(
        path,
        content=f'{{"receiptId": {value}}}',
        headers={"X-Api-Key": INTERNAL_API_KEY, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    [detail] = response.json()["details"]
    assert detail["code"] == "INVALID_JSON"
    assert "refused" in detail["message"]
    assert server_errors() == []


def test_the_decoder_keeps_ordinary_values_and_refuses_only_past_its_limits():
    within = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert decode_json(within) is not None
    assert decode_json('{"n": -1234567890, "x": 1.5e300}') == {"n": -1234567890, "x": 1.5e300}
    assert decode_json("9" * 100) == int("9" * 100)
    for refused in HOSTILE.values():
        with pytest.raises(json.JSONDecodeError):
            decode_json(refused)


async def test_a_document_over_max_query_bytes_is_a_400_whatever_it_holds(client):
    """A 900 kB comment costs no token, but the parse cache would keep its text."""
    query = "#" + "x" * 900_000 + "\n{ __typename }"

    response = await client.post("/graphql", json={"query": query})

    assert response.status_code == 400
    assert "longer than 50000 bytes" in response.json()["errors"][0]["message"]
