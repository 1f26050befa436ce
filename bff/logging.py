"""Logging with the request id on every line; JSON lines in production."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id and any `extra`."""

    RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"request_id", "message"}

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in self.RESERVED})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def make_handler(stream: TextIO, *, json_lines: bool) -> logging.Handler:
    """A handler that stamps each record with the request id: JSON lines or readable text."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    return handler


def configure_logging(*, json_lines: bool, level: str) -> None:
    root = logging.getLogger()
    root.handlers[:] = [make_handler(sys.stderr, json_lines=json_lines)]
    root.setLevel(level)
    # uvicorn's own access log is replaced by ours (bff.access), which carries the request id.
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False
