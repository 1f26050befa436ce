"""Pure-ASGI middleware: request id, access log and security headers (one layer), body size
limit, websocket limits."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bff import metrics
from bff.logging import request_id_var

access_logger = logging.getLogger("bff.access")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestEnvelopeMiddleware:
    """What every request gets, in one layer (three used to wrap each response in turn):

    - a request id: a sane `X-Request-ID` from the client or a new one, in the logs' context and
      echoed on every response (websockets too);
    - HTTP: one structured access-log line (method, path, status, duration, client), built only
      when the `bff.access` logger writes INFO;
    - HTTP: nosniff, frame denial, referrer and opener policies on every response; HSTS in
      production.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if hsts:
            self.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        if kind != "http":
            try:
                await self.app(scope, receive, send)
            finally:
                request_id_var.reset(token)
            return
        started = time.perf_counter()
        status = 500

        async def envelope(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                headers["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, envelope)
        finally:
            if access_logger.isEnabledFor(logging.INFO):
                client = scope.get("client")
                access_logger.info(
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "client": client[0] if client else None,
                    },
                )
            request_id_var.reset(token)


class BodySizeLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413 (by header or while streaming), and
    bodies that stall for `timeout` seconds between chunks with 408, so a slow or endless
    upload never holds a request open."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send, _BodyTooLargeError())
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        guarded = _GuardedReceive(receive, max_bytes=self.max_bytes, timeout=self.timeout)
        try:
            await self.app(scope, guarded, tracking_send)
        except _BodyError as error:
            if not response_started:
                await self._refuse(scope, receive, send, error)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, error: _BodyError) -> None:
        if isinstance(error, _BodyTimeoutError):
            message = f"The request body did not arrive within {self.timeout:g} seconds."
        else:
            message = f"Request body is larger than {self.max_bytes} bytes."
        response = JSONResponse(
            {"errors": [{"message": message}]},
            status_code=error.status_code,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


class _GuardedReceive:
    """`receive` with a byte budget and a deadline per body chunk."""

    def __init__(self, receive: Receive, *, max_bytes: int, timeout: float) -> None:
        self.receive = receive
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.received = 0
        self.body_complete = False

    async def __call__(self) -> Message:
        if self.body_complete:
            # After the body, receive() only waits for a disconnect: no deadline then.
            return await self.receive()
        try:
            async with asyncio.timeout(self.timeout):
                message = await self.receive()
        except TimeoutError:
            raise _BodyTimeoutError from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.max_bytes:
                raise _BodyTooLargeError
            self.body_complete = not message.get("more_body", False)
        return message


class _BodyError(Exception):
    status_code = 400


class _BodyTooLargeError(_BodyError):
    status_code = 413


class _BodyTimeoutError(_BodyError):
    status_code = 408


# Close codes: RFC 6455's "message too big", and "try again later" for a refused handshake.
MESSAGE_TOO_BIG = 1009
TRY_AGAIN_LATER = 1013


class WebSocketLimitsMiddleware:
    """Bounds what a websocket may cost before and after it is authenticated.

    A frame larger than `max_frame_before_auth` (until the server has sent `connection_ack`) or
    `max_frame` (after) closes the socket with 1009; a client address with `max_per_address`
    sockets open gets its next handshake refused. `bff serve` also sets uvicorn's `ws_max_size`
    to `max_frame`, so no larger frame is even buffered.
    """

    def __init__(
        self, app: ASGIApp, *, max_frame_before_auth: int, max_frame: int, max_per_address: int
    ) -> None:
        self.app = app
        self.max_frame_before_auth = max_frame_before_auth
        self.max_frame = max_frame
        self.max_per_address = max_per_address
        self.open: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        if self.open.get(address, 0) >= self.max_per_address:
            access_logger.warning("websocket refused: %s has too many open", address)
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
            return
        self.open[address] = self.open.get(address, 0) + 1
        metrics.WEBSOCKETS_OPEN.inc()
        try:
            await self.app(scope, *self._guard(receive, send))
        finally:
            metrics.WEBSOCKETS_OPEN.dec()
            self.open[address] -= 1
            if not self.open[address]:
                del self.open[address]

    def _guard(self, receive: Receive, send: Send) -> tuple[Receive, Send]:
        state = {"acknowledged": False, "closed": False}

        async def guarded_send(message: Message) -> None:
            if state["closed"]:
                return  # we closed it for a frame too big; the app does not know yet
            if message["type"] == "websocket.send" and not state["acknowledged"]:
                state["acknowledged"] = '"connection_ack"' in (message.get("text") or "")
            await send(message)

        async def guarded_receive() -> Message:
            message = await receive()
            if message["type"] != "websocket.receive":
                return message
            text, data = message.get("text"), message.get("bytes")
            size = len(data or b"") if text is None else len(text.encode())
            cap = self.max_frame if state["acknowledged"] else self.max_frame_before_auth
            if size <= cap:
                return message
            reason = f"frames hold at most {cap} bytes"
            await send({"type": "websocket.close", "code": MESSAGE_TOO_BIG, "reason": reason})
            state["closed"] = True
            return {"type": "websocket.disconnect", "code": MESSAGE_TOO_BIG}

        return guarded_receive, guarded_send
