"""Password policy and argon2id hashing, off the event loop and capped in flight."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from bff import metrics
from bff.errors import DomainError, ErrorCode
from bff.identity.models import Member
from bff.identity.tokens import text_bytes

if TYPE_CHECKING:
    from bff.settings import Settings

MIN_LENGTH = 15
MAX_LENGTH = 256
# zxcvbn's cost grows quickly with length (about 1.4 s for 256 repeated characters); its own
# default limit of 72 code points bounds the check to tens of milliseconds, and a prefix that
# long already shows a repeated, common or keyboard-walk password.
GUESSABILITY_PREFIX = 72
# UTF-16 surrogate code points: in a Python str from JSON they are always unpaired.
_SURROGATES_START, _SURROGATES_END = 0xD800, 0xDFFF
# zxcvbn score 3: "safely unguessable", about 10^8 to 10^10 guesses needed.
MIN_SCORE = 3
# zxcvbn keeps the user inputs of a call in a module-level dictionary: one call at a time.
_zxcvbn_lock = threading.Lock()


# Hashing threads run at a lower CPU priority than the event loop's thread, so a login flood
# slows logins down rather than every other request (Linux schedules threads one by one, and
# argon2's own lanes inherit the niceness of the thread that starts them).
HASHING_NICENESS = 10


def _lower_thread_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not permitted
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


@dataclass
class PasswordHashing:
    """argon2id with the settings' parameters; at most `in_flight` hashes run at once, each in a
    low-priority worker thread."""

    hasher: PasswordHasher
    in_flight: int
    _semaphore: asyncio.Semaphore | None = field(default=None, init=False)
    _executor: ThreadPoolExecutor | None = field(default=None, init=False)
    _dummy_hash: str | None = field(default=None, init=False)

    @property
    def semaphore(self) -> asyncio.Semaphore:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.in_flight)
        return self._semaphore

    @property
    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.in_flight,
                thread_name_prefix="argon2",
                initializer=_lower_thread_priority,
            )
        return self._executor

    async def _run(self, function: Any, *args: str | bytes) -> Any:  # noqa: ANN401 (thin wrapper)
        metrics.PASSWORD_HASHES_WAITING.inc()
        try:
            await self.semaphore.acquire()
        finally:
            metrics.PASSWORD_HASHES_WAITING.dec()
        metrics.PASSWORD_HASHES_RUNNING.inc()
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)
        finally:
            metrics.PASSWORD_HASHES_RUNNING.dec()
            self.semaphore.release()

    async def hash(self, password: str) -> str:
        result: str = await self._run(self.hasher.hash, text_bytes(password))
        return result

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches; an unknown account (None) costs one dummy verify."""
        if password_hash is None:
            if self._dummy_hash is None:
                # The first unknown email makes the dummy hash: one argon2 run, like a verify.
                await self.dummy_hash()
            else:
                await self._run(self._verify_quietly, self._dummy_hash, text_bytes(password))
            return False
        ok: bool = await self._run(self._verify_quietly, password_hash, text_bytes(password))
        return ok

    async def dummy_hash(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(24))
        return self._dummy_hash

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def _verify_quietly(self, password_hash: str, password: bytes) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


@cache
def _hashing(time_cost: int, memory_cost: int, parallelism: int, in_flight: int) -> PasswordHashing:
    hasher = PasswordHasher(
        time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
    )
    return PasswordHashing(hasher=hasher, in_flight=in_flight)


def password_hashing(settings: Settings) -> PasswordHashing:
    """The process-wide hashing for these parameters (one in-flight cap per process)."""
    return _hashing(
        settings.argon2_time_cost,
        settings.argon2_memory_cost_kib,
        settings.argon2_parallelism,
        settings.password_hashes_in_flight,
    )


async def hash_password(password: str, *, settings: Settings) -> str:
    return await password_hashing(settings).hash(password)


async def verify_and_maybe_rehash(
    *, password_hash: str | None, password: str, settings: Settings
) -> tuple[bool, str | None]:
    """(matches, new hash when the stored one used older parameters, else None)."""
    hashing = password_hashing(settings)
    if not await hashing.verify(password_hash, password):
        return False, None
    if password_hash is not None and hashing.needs_rehash(password_hash):
        return True, await hashing.hash(password)
    return True, None


async def check_member_password(member: Member, password: str, *, settings: Settings) -> bool:
    """Whether `password` is the member's; upgrades an outdated hash on success."""
    ok, new_hash = await verify_and_maybe_rehash(
        password_hash=member.password_hash, password=password, settings=settings
    )
    if ok and new_hash is not None:
        await Member.filter(id=member.id).update(password_hash=new_hash)
        member.password_hash = new_hash
    return ok


def password_problem(password: str, *, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why `password` is refused (length, or common/guessable with zxcvbn's reason), or None."""
    length = len(password)  # code points: never truncated, never case-folded
    if length < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters (this one has {length})."
    if length > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters (this one has {length})."
    if any(_SURROGATES_START <= ord(char) <= _SURROGATES_END for char in password):
        # JSON can carry a lone "\ud800"; no keyboard or other client could type it again.
        return "Use only valid Unicode characters (this one has an unpaired surrogate)."
    with _zxcvbn_lock:
        result = zxcvbn(password[:GUESSABILITY_PREFIX], user_inputs=list(user_inputs))
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result.get("feedback") or {}
    reason = feedback.get("warning") or "This password is easy to guess."
    suggestions = " ".join(feedback.get("suggestions") or [])
    return f"{reason} {suggestions}".strip()


async def validate_new_password(
    password: str, *, field: str = "password", user_inputs: tuple[str, ...] = ()
) -> None:
    """WEAK_PASSWORD with the reason when the policy refuses `password` (checked off the loop)."""
    problem = await asyncio.to_thread(password_problem, password, user_inputs=user_inputs)
    if problem is not None:
        raise DomainError(ErrorCode.WEAK_PASSWORD, problem, field=field)
