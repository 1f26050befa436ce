"""Issuing cards, linking them to members (claiming their points), status and unlinking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from bff import events, outbox
from bff.errors import DomainError, ErrorCode
from bff.identity.models import Member, ProgramStatus
from bff.identity.throttle import Factor, throttle_for
from bff.identity.validation import clean_text
from bff.loyalty.codes import code_hash, code_matches, generate_code, is_valid_code
from bff.loyalty.ledger import PointsOwner
from bff.loyalty.models import (
    Card,
    CardKind,
    CardStatus,
    DeactivationReason,
    PointsEntry,
    PointsLot,
    Purchase,
    TierCode,
)
from bff.loyalty.numbers import generate_number, normalize_number
from bff.loyalty.tiers import read_tiers
from bff.outbox import MessageKind
from bff.settings import Settings

MAX_LABEL_LENGTH = 60
# A generated number colliding with an issued one is rare (10^10 numbers): a few tries suffice.
_GENERATION_ATTEMPTS = 5


@dataclass(frozen=True)
class IssuedCard:
    card: Card
    verification_code: str


async def issue_card(
    *,
    number: str | None = None,
    verification_code: str | None = None,
    settings: Settings,
    kind: CardKind = CardKind.PHYSICAL,
) -> IssuedCard:
    """A new unlinked card; the number and code are generated when not given. CARD_EXISTS."""
    if verification_code is not None and not is_valid_code(verification_code):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A verification code has 6 digits.", field="verificationCode"
        )
    code = verification_code or generate_code()
    secret = settings.secret_key.get_secret_value()
    if number is not None:
        wanted = normalize_number(number)
        try:
            card = await Card.create(
                number=wanted,
                code_hash=code_hash(number=wanted, code=code, secret_key=secret),
                kind=kind,
            )
        except IntegrityError:
            raise DomainError(
                ErrorCode.CARD_EXISTS, "A card with this number exists.", field="number"
            ) from None
        return IssuedCard(card=card, verification_code=code)
    card = await _card_with_generated_number(code=code, secret=secret, kind=kind)
    return IssuedCard(card=card, verification_code=code)


async def _card_with_generated_number(*, code: str, secret: str, kind: CardKind) -> Card:
    for _ in range(_GENERATION_ATTEMPTS):
        generated = generate_number()
        try:
            return await Card.create(
                number=generated,
                code_hash=code_hash(number=generated, code=code, secret_key=secret),
                kind=kind,
            )
        except IntegrityError:
            continue
    raise RuntimeError("could not generate a free card number")


async def verify_card_code(*, number: str, code: str, settings: Settings) -> Card | None:
    """The card when `code` is its verification code; None for an unknown number or a wrong
    code alike (an HMAC is computed in both cases, so they take about the same time)."""
    card = await Card.get_or_none(number=number)
    secret = settings.secret_key.get_secret_value()
    stored = card.code_hash if card else code_hash(number=number, code="", secret_key=secret)
    matches = code_matches(stored_hash=stored, number=number, code=code, secret_key=secret)
    return card if card is not None and matches else None


async def attach_card(
    *,
    member_id: int,
    card_id: int,
    label: str | None,
    settings: Settings,
    now: datetime | None = None,
) -> Card:
    """Link a card whose code was verified, and hand the member what the card earned alone."""
    now = now or datetime.now(UTC)
    async with events.transaction():
        # Card row first, then member row: the order every writer of both uses.
        card = await Card.select_for_update().get(id=card_id)
        member = await Member.select_for_update().get(id=member_id)
        if member.program_status is not ProgramStatus.ENROLLED:
            raise DomainError(ErrorCode.NOT_ENROLLED, "Join the loyalty program to link a card.")
        if card.member_id == member_id:
            return card
        if card.member_id is not None:
            raise DomainError(
                ErrorCode.CARD_ALREADY_LINKED,
                "This card is linked to another account.",
                field="number",
            )
        linked = await Card.filter(member_id=member_id).count()
        if linked >= settings.max_cards_per_member:
            raise DomainError(
                ErrorCode.CARD_LIMIT_REACHED,
                f"An account links at most {settings.max_cards_per_member} cards.",
            )
        card.member_id = member_id
        card.linked_at = now
        card.label = label
        await card.save(update_fields=["member_id", "linked_at", "label"])
        # Owner attribution only: the amounts stay as recorded. A closed account's rows stay
        # detached: they were never the card's own.
        own_rows = PointsOwner(card_id=card.id).rows().q()
        for model in (Purchase, PointsEntry, PointsLot):
            await model.filter(own_rows).update(member_id=member_id)
        events.publish_after_commit(events.points_balance_changed(member_id))
        return card


async def set_card_status(
    *,
    member_id: int,
    card_id: int,
    status: CardStatus,
    reason: DeactivationReason | None = None,
) -> Card:
    """Deactivate (with the reason the stores see: lost, stolen, other) or activate (clearing
    the reason) one of the member's cards. NOT_FOUND otherwise."""
    kept_reason = reason if status is CardStatus.INACTIVE else None
    async with events.transaction():
        updated = await Card.filter(id=card_id, member_id=member_id).update(
            status=status, deactivation_reason=kept_reason
        )
        if not updated:
            raise DomainError(ErrorCode.NOT_FOUND, "You have no card with this id.", field="cardId")
        event = events.card_status_changed(member_id=member_id, card_id=card_id)
        events.publish_after_commit(event)
        card = await Card.get(id=card_id)
        await outbox.enqueue(
            member_id=member_id,
            kind=MessageKind.CARD_STATUS_CHANGED,
            params={"cardEnding": card.number[-4:], "status": status.value},
        )
    return card


async def rename_card(*, member_id: int, card_id: int, label: str | None) -> Card:
    """Set (or, empty, clear) the label of one of the member's cards. NOT_FOUND otherwise."""
    cleaned = clean_text(label or "", field="label", max_length=MAX_LABEL_LENGTH, label="label")
    updated = await Card.filter(id=card_id, member_id=member_id).update(label=cleaned or None)
    if not updated:
        raise DomainError(ErrorCode.NOT_FOUND, "You have no card with this id.", field="cardId")
    return await Card.get(id=card_id)


async def request_digital_card(
    *, member_id: int, settings: Settings, now: datetime | None = None
) -> Card:
    """Issue a DIGITAL card in the program's number range and link it to the member at once;
    it counts towards the cards a member may link. NOT_ENROLLED, CARD_LIMIT_REACHED.

    The checks run first so that a refused request leaves no card behind; linking checks them
    again under the locks (the rule that holds)."""
    member = await Member.get(id=member_id)
    if member.program_status is not ProgramStatus.ENROLLED:
        raise DomainError(ErrorCode.NOT_ENROLLED, "Join the loyalty program to get a card.")
    if await Card.filter(member_id=member_id).count() >= settings.max_cards_per_member:
        raise DomainError(
            ErrorCode.CARD_LIMIT_REACHED,
            f"An account links at most {settings.max_cards_per_member} cards.",
        )
    # Its verification code is never shown: the member holds the card in the app.
    card = await _card_with_generated_number(
        code=generate_code(), secret=settings.secret_key.get_secret_value(), kind=CardKind.DIGITAL
    )
    return await attach_card(
        member_id=member_id, card_id=card.id, label=None, settings=settings, now=now
    )


@dataclass(frozen=True)
class ScannedCard:
    """What a till learns when it scans a card: the card, and its member's standing."""

    card: Card
    program_status: ProgramStatus | None
    tier: TierCode | None


async def scan_card(*, number: str, settings: Settings, now: datetime | None = None) -> ScannedCard:
    """The card with this number and, when linked, its member's program status and tier (the
    tier only while enrolled). CARD_INVALID_NUMBER, CARD_NOT_FOUND."""
    card = await Card.get_or_none(number=normalize_number(number))
    if card is None:
        raise DomainError(ErrorCode.CARD_NOT_FOUND, "No card has this number.", field="number")
    if card.member_id is None:
        return ScannedCard(card=card, program_status=None, tier=None)
    member = await Member.get(id=card.member_id)
    tier = None
    if member.program_status is ProgramStatus.ENROLLED:
        found = await read_tiers(
            member_ids=[member.id], now=now or datetime.now(UTC), settings=settings
        )
        tier = found[member.id].tier.code
    return ScannedCard(card=card, program_status=member.program_status, tier=tier)


async def unlink_card(*, member_id: int, card_id: int) -> None:
    """Unlink one of the member's cards; the points it brought stay with the member."""
    async with events.transaction():
        card = await Card.select_for_update().get_or_none(id=card_id, member_id=member_id)
        if card is None:
            raise DomainError(ErrorCode.NOT_FOUND, "You have no card with this id.", field="cardId")
        await Card.filter(id=card_id).update(member_id=None, linked_at=None, label=None)


async def link_card(
    *,
    member_id: int,
    number: str,
    verification_code: str,
    label: str | None,
    client_address: str | None,
    settings: Settings,
    now: datetime | None = None,
) -> Card:
    """Link the card with this number and code to the member.

    CARD_INVALID_NUMBER, NOT_ENROLLED, TOO_MANY_ATTEMPTS, CARD_NOT_FOUND (unknown number and wrong
    code alike), CARD_ALREADY_LINKED, CARD_LIMIT_REACHED. Code attempts are throttled per member,
    per card and per client address, and counted before the code is checked.
    """
    number = normalize_number(number)
    label = clean_text(label or "", field="label", max_length=MAX_LABEL_LENGTH, label="label")
    member = await Member.get(id=member_id)
    if member.program_status is not ProgramStatus.ENROLLED:
        raise DomainError(ErrorCode.NOT_ENROLLED, "Join the loyalty program to link a card.")
    throttle = throttle_for(settings)
    keys = [(f"member:{member_id}", client_address), (f"card:{number}", None)]
    for account, address in keys:
        await throttle.check(factor=Factor.CARD_CODE, account=account, address=address)
    card = await verify_card_code(number=number, code=verification_code.strip(), settings=settings)
    if card is None:
        for account, address in keys:
            await throttle.record_failure(factor=Factor.CARD_CODE, account=account, address=address)
        raise DomainError(
            ErrorCode.CARD_NOT_FOUND,
            "No card has this number and verification code.",
            field="number",
        )
    for account, address in keys:
        await throttle.record_success(factor=Factor.CARD_CODE, account=account, address=address)
    return await attach_card(
        member_id=member_id, card_id=card.id, label=label or None, settings=settings, now=now
    )
