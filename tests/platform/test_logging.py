"""Logs: the request id on every line, JSON lines in production, unexpected errors with a stack."""

from __future__ import annotations

import json
import logging
import sys

from bff.graphql.context import Context
from bff.logging import JsonFormatter, request_id_var


def test_the_json_formatter_writes_one_object_with_the_request_id_and_extras():
    """Each line is a JSON object: time, level, logger, message, request id and `extra` fields."""
    record = logging.makeLogRecord(
        {
            "name": "bff.access",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "%s %s",
            "args": ("GET", "/healthz"),
            "request_id": "req-7",
            "status": 200,
        }
    )

    line = JsonFormatter().format(record)

    payload = json.loads(line)
    assert "\n" not in line
    assert payload["message"] == "GET /healthz"
    assert payload["level"] == "INFO"
    assert payload["logger"] == "bff.access"
    assert payload["request_id"] == "req-7"
    assert payload["status"] == 200
    assert payload["time"].endswith("+00:00")


def test_the_json_formatter_keeps_the_stack_of_an_exception():
    """An exception's traceback travels inside the JSON object, not on extra lines."""
    try:
        raise ValueError("broken")  # noqa: TRY301 (the test needs a real traceback)
    except ValueError:
        record = logging.makeLogRecord(
            {"msg": "failed", "levelname": "ERROR", "exc_info": sys.exc_info()}
        )

    payload = json.loads(JsonFormatter().format(record))

    assert "Traceback" in payload["exception"]
    assert "ValueError: broken" in payload["exception"]


async def test_every_line_logged_during_a_request_carries_its_request_id(client, log_lines):
    """The access log line (and any other) names the request it belongs to."""

    await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "trace-1"}
    )

    # httpx logs on the client's side of the test, after the request is over.
    records = [record for record in log_lines.records() if record["logger"] != "httpx"]
    access = [record for record in records if record["logger"] == "bff.access"]
    assert all(record["request_id"] == "trace-1" for record in records)
    assert access[0]["method"] == "POST"
    assert access[0]["path"] == "/graphql"
    assert access[0]["status"] == 200
    assert access[0]["duration_ms"] >= 0


async def test_a_masked_error_is_logged_with_its_stack_and_request_id(
    client, log_lines, monkeypatch
):
    """What the client does not see, the log has: the exception, its stack, the request id."""

    async def broken(self):
        raise RuntimeError("connection to db-7.internal refused")

    monkeypatch.setattr(Context, "authentication", broken)

    await client.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"X-Request-ID": "trace-2"}
    )

    errors = [record for record in log_lines.records() if record["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "trace-2"
    assert errors[0]["message"] == "unexpected error at me: connection to db-7.internal refused"
    assert "RuntimeError: connection to db-7.internal refused" in errors[0]["exception"]


def test_lines_outside_a_request_carry_a_dash():
    """Start-up and shutdown lines have no request: their id is '-'."""

    assert request_id_var.get() == "-"
