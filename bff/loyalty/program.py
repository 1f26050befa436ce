"""Joining and leaving the loyalty program, and the loyalty part of closing an account."""

from __future__ import annotations

from datetime import UTC, datetime

from bff import events
from bff.errors import DomainError, ErrorCode
from bff.identity.accounts import confirm_password
from bff.identity.models import Member, ProgramStatus
from bff.loyalty import tiers
from bff.loyalty.ledger import PointsOwner, forfeit_all
from bff.loyalty.models import Card, PointsEntry, PointsLot, Purchase
from bff.offers.services import lapse_exclusive_activations
from bff.settings import Settings


async def join_program(*, member: Member, accept_rules: bool, now: datetime | None = None) -> None:
    """Enrol an opted-out member again; their balance starts at zero (forfeited on leaving)
    and their tier at the lowest."""
    now = now or datetime.now(UTC)
    if not accept_rules:
        raise DomainError(
            ErrorCode.TERMS_NOT_ACCEPTED, "Accept the program rules to join.", field="acceptRules"
        )
    async with events.transaction():
        current = await Member.select_for_update().get(id=member.id)
        if current.program_status is ProgramStatus.ENROLLED:
            raise DomainError(ErrorCode.ALREADY_ENROLLED, "You are already in the loyalty program.")
        await Member.filter(id=member.id).update(
            program_status=ProgramStatus.ENROLLED, program_joined_at=now
        )
        # Rejoining starts at the lowest tier: spend counts from now.
        await tiers.reset_tier(member_id=member.id, now=now)
    member.program_status = ProgramStatus.ENROLLED
    member.program_joined_at = now


async def opt_out(
    *,
    member: Member,
    password: str,
    client_ip: str,
    settings: Settings,
    now: datetime | None = None,
) -> int:
    """Opt out after the password (throttled like a login): INVALID_CREDENTIALS, NOT_ENROLLED,
    CARDS_STILL_LINKED. Returns the points forfeited."""
    await confirm_password(member=member, password=password, client_ip=client_ip, settings=settings)
    return await leave_program(member=member, now=now)


async def leave_program(*, member: Member, now: datetime | None = None) -> int:
    """Opt out: refused while cards are linked, else every point is forfeited, exclusive
    activations lapse and the tier resets to the lowest. Returns the points forfeited."""
    now = now or datetime.now(UTC)
    async with events.transaction():
        current = await Member.select_for_update().get(id=member.id)
        if current.program_status is not ProgramStatus.ENROLLED:
            raise DomainError(ErrorCode.NOT_ENROLLED, "You are not in the loyalty program.")
        cards = await Card.filter(member_id=member.id).order_by("linked_at", "id")
        if cards:
            names = ", ".join(
                f"{card.label} ({card.number})" if card.label else card.number for card in cards
            )
            raise DomainError(
                ErrorCode.CARDS_STILL_LINKED, f"Unlink these cards before opting out: {names}."
            )
        forfeited = await forfeit_all(owner=PointsOwner(member_id=member.id), now=now)
        # Exclusive offers are for program members. Loyalty calls offers here, explicitly and
        # in this transaction; offers never imports loyalty (profile > loyalty > offers).
        await lapse_exclusive_activations(member_id=member.id, now=now)
        await tiers.reset_tier(member_id=member.id, now=now)
        await Member.filter(id=member.id).update(program_status=ProgramStatus.OPTED_OUT)
        events.publish_after_commit(events.points_balance_changed(member.id))
    member.program_status = ProgramStatus.OPTED_OUT
    return forfeited


async def detach_member(*, member_id: int, now: datetime) -> None:
    """Closing an account, loyalty's part: the points left are forfeited, the cards unlinked,
    and the purchases, entries and lots kept for accounting but detached from the member.
    Call inside the closing transaction, under the member row lock."""
    # Points die with the account (a FORFEIT entry): detached, live lots would become the
    # card's own, for whoever holds the card to redeem or link.
    await forfeit_all(owner=PointsOwner(member_id=member_id), now=now)
    await tiers.erase_member(member_id=member_id)
    await Card.filter(member_id=member_id).update(member_id=None, label=None, linked_at=None)
    for detached in (Purchase, PointsEntry, PointsLot):
        await detached.filter(member_id=member_id).update(member_id=None, detached=True)
