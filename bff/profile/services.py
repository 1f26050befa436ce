"""Profile changes, notification preferences with consent history, and account closure."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from bff import events
from bff.identity import accounts as identity
from bff.identity.accounts import confirm_password
from bff.identity.models import Language, Member
from bff.identity.throttle import throttle_for
from bff.identity.validation import clean_member_fields
from bff.loyalty import program as loyalty
from bff.offers import services as offers
from bff.profile.models import Channel, ConsentEvent, Preferences
from bff.settings import Settings

_MARKETING_CHANNELS = {
    "marketing_by_email": Channel.EMAIL,
    "marketing_by_sms": Channel.SMS,
    "marketing_by_push": Channel.PUSH,
}
_NOTIFY_FIELDS = ("notify_by_email", "notify_by_sms", "notify_by_push")


@dataclass(frozen=True)
class ProfileChanges:
    """None leaves a field as it is; an empty string clears an optional one."""

    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    company_name: str | None = None
    tax_id: str | None = None
    # Of mail and notices: each message takes the language of the moment it is dispatched.
    language: Language | None = None


async def update_profile(*, member: Member, changes: ProfileChanges) -> Member:
    given = asdict(changes)
    language = given.pop("language")
    cleaned: dict[str, str | None] = clean_member_fields(given)
    if language is not None:
        cleaned["language"] = Language(language).value
    if cleaned:
        await Member.filter(id=member.id).update(**cleaned, updated_at=datetime.now(UTC))
        await member.refresh_from_db()
    return member


def default_preferences(*, member_id: int, registered_at: datetime) -> Preferences:
    """The switches of a member who never changed one (no row yet): the model's defaults, as of
    registration."""
    return Preferences(member_id=member_id, updated_at=registered_at)


async def update_preferences(*, member_id: int, changes: dict[str, bool | None]) -> Preferences:
    """Set the given switches; each marketing switch that changes is recorded with its time."""
    now = datetime.now(UTC)
    wanted = {name: value for name, value in changes.items() if value is not None}
    async with in_transaction():
        await Preferences.bulk_create(
            [Preferences(member_id=member_id, updated_at=now)], ignore_conflicts=True
        )
        preferences = await Preferences.select_for_update().get(member_id=member_id)
        changes_of_consent = [
            ConsentEvent(
                member_id=member_id, channel=channel, granted=wanted[name], occurred_at=now
            )
            for name, channel in _MARKETING_CHANNELS.items()
            if name in wanted and getattr(preferences, name) != wanted[name]
        ]
        for name in (*_NOTIFY_FIELDS, *_MARKETING_CHANNELS):
            if name in wanted:
                setattr(preferences, name, wanted[name])
        preferences.updated_at = now
        await preferences.save()
        if changes_of_consent:
            await ConsentEvent.bulk_create(changes_of_consent)
    return preferences


async def erase_member(*, member_id: int) -> None:
    """Closing an account, profile's part: preferences and the consent history go."""
    for personal in (ConsentEvent, Preferences):
        await personal.filter(member_id=member_id).delete()


async def close_account(
    *, member: Member, password: str, client_ip: str, settings: Settings
) -> None:
    """Erase the member's personal data and end every session; the ledger stays, detached.

    The member row stays as an anonymous tombstone (closed_at set, every personal field empty),
    so the email is free to register again and no login can reach it. Each domain erases its
    own rows, all in one transaction under the member row lock.
    """
    await confirm_password(member=member, password=password, client_ip=client_ip, settings=settings)
    email = member.email
    now = datetime.now(UTC)
    async with events.transaction():
        locked = await Member.select_for_update().get(id=member.id)
        if locked.closed_at is not None:
            return
        await identity.erase_member(member_id=member.id, now=now)
        await erase_member(member_id=member.id)
        await offers.erase_member(member_id=member.id)
        await loyalty.detach_member(member_id=member.id, now=now)
    # The member's own counters: by email (passwords) and by member id (codes, cards).
    accounts = [f"member:{member.id}", *([email] if email else [])]
    await throttle_for(settings).forget_accounts(*accounts)
