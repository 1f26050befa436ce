"""Card mutations: link, activate, deactivate and unlink."""

from __future__ import annotations

import strawberry

from bff.graphql.context import Info
from bff.graphql.errors import returns_user_errors
from bff.graphql.identity.types import Member, MemberPayload
from bff.graphql.loyalty.types import Card, CardDeactivationReason, CardPayload
from bff.graphql.permissions import IsMember
from bff.ids import expect_global_id
from bff.loyalty import cards as services
from bff.loyalty import program
from bff.loyalty.models import CardStatus as CardStatusModel
from bff.loyalty.models import DeactivationReason


@strawberry.input
class LinkCardInput:
    number: str
    verification_code: str = strawberry.field(
        description="The code printed on the card; proves possession."
    )
    label: str | None = None


@strawberry.input
class CardIdInput:
    card_id: strawberry.ID
    reason: CardDeactivationReason | None = strawberry.field(
        default=None,
        description="deactivateCard only: why (lost, stolen, other), for the stores' systems.",
    )


@strawberry.input
class RenameCardInput:
    card_id: strawberry.ID
    label: str | None = None


async def _set_status(
    info: Info,
    card_id: strawberry.ID,
    status: CardStatusModel,
    reason: CardDeactivationReason | None = None,
) -> CardPayload:
    member = info.context.signed_in_member
    pk = expect_global_id(card_id, "Card", field="cardId")
    card = await services.set_card_status(
        member_id=member.id,
        card_id=pk,
        status=status,
        reason=None if reason is None else DeactivationReason(reason.value),
    )
    return CardPayload(card=Card.from_model(card))


@strawberry.type
class CardsMutation:
    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(CardPayload)
    async def link_card(self, info: Info, input: LinkCardInput) -> CardPayload:  # noqa: A002 (contract)
        card = await services.link_card(
            member_id=info.context.signed_in_member.id,
            number=input.number,
            verification_code=input.verification_code,
            label=input.label,
            client_address=info.context.client_ip,
            settings=info.context.settings,
        )
        return CardPayload(card=Card.from_model(card))

    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(CardPayload)
    async def activate_card(self, info: Info, input: CardIdInput) -> CardPayload:  # noqa: A002 (contract)
        return await _set_status(info, input.card_id, CardStatusModel.ACTIVE)

    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(CardPayload)
    async def deactivate_card(self, info: Info, input: CardIdInput) -> CardPayload:  # noqa: A002 (contract)
        return await _set_status(info, input.card_id, CardStatusModel.INACTIVE, input.reason)

    @strawberry.mutation(
        permission_classes=[IsMember],
        description="Issues a digital card, linked and active at once (counts towards the five).",
    )
    @returns_user_errors(CardPayload)
    async def request_digital_card(self, info: Info) -> CardPayload:
        card = await services.request_digital_card(
            member_id=info.context.signed_in_member.id, settings=info.context.settings
        )
        return CardPayload(card=Card.from_model(card))

    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(CardPayload)
    async def rename_card(self, info: Info, input: RenameCardInput) -> CardPayload:  # noqa: A002 (contract)
        member = info.context.signed_in_member
        pk = expect_global_id(input.card_id, "Card", field="cardId")
        card = await services.rename_card(member_id=member.id, card_id=pk, label=input.label)
        return CardPayload(card=Card.from_model(card))

    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(MemberPayload)
    async def unlink_card(self, info: Info, input: CardIdInput) -> MemberPayload:  # noqa: A002 (contract)
        member = info.context.signed_in_member
        pk = expect_global_id(input.card_id, "Card", field="cardId")
        await services.unlink_card(member_id=member.id, card_id=pk)
        return MemberPayload(member=Member.from_model(member))


@strawberry.input
class JoinProgramInput:
    accept_rules: bool


@strawberry.input
class OptOutInput:
    password: str


@strawberry.type
class ProgramMutation:
    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(MemberPayload)
    async def join_program(self, info: Info, input: JoinProgramInput) -> MemberPayload:  # noqa: A002 (contract)
        member = info.context.signed_in_member
        await program.join_program(member=member, accept_rules=input.accept_rules)
        return MemberPayload(member=Member.from_model(member))

    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(MemberPayload)
    async def opt_out(self, info: Info, input: OptOutInput) -> MemberPayload:  # noqa: A002 (contract)
        member = info.context.signed_in_member
        await program.opt_out(
            member=member,
            password=input.password,
            client_ip=info.context.client_ip,
            settings=info.context.settings,
        )
        return MemberPayload(member=Member.from_model(member))
