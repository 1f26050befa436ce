"""Profile mutations: profile fields, notification preferences and closing the account."""

from __future__ import annotations

import strawberry

from bff.graphql.context import Info
from bff.graphql.errors import returns_user_errors
from bff.graphql.identity.types import CloseAccountInput, CloseAccountPayload, Member, MemberPayload
from bff.graphql.permissions import IsMember
from bff.graphql.profile.loaders import PreferencesByMemberIdLoader
from bff.graphql.profile.types import UpdatePreferencesInput, UpdateProfileInput
from bff.graphql.session import clear_session_cookie
from bff.identity.models import Language
from bff.profile import services


@strawberry.type
class ProfileMutation:
    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(MemberPayload)
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> MemberPayload:  # noqa: A002 (contract)
        changes = services.ProfileChanges(
            first_name=input.first_name,
            last_name=input.last_name,
            phone=input.phone,
            company_name=input.company_name,
            tax_id=input.tax_id,
            language=Language[input.language.name] if input.language else None,
        )
        member = await services.update_profile(
            member=info.context.signed_in_member, changes=changes
        )
        return MemberPayload(member=Member.from_model(member))

    @strawberry.mutation(
        description="Each marketing switch that changes is recorded with its time.",
        permission_classes=[IsMember],
    )
    @returns_user_errors(MemberPayload)
    async def update_preferences(
        self,
        info: Info,
        input: UpdatePreferencesInput,  # noqa: A002 (contract)
    ) -> MemberPayload:
        member = info.context.signed_in_member
        preferences = await services.update_preferences(
            member_id=member.id,
            changes={
                "notify_by_email": input.notify_by_email,
                "notify_by_sms": input.notify_by_sms,
                "notify_by_push": input.notify_by_push,
                "marketing_by_email": input.marketing_by_email,
                "marketing_by_sms": input.marketing_by_sms,
                "marketing_by_push": input.marketing_by_push,
            },
        )
        info.context.loader(PreferencesByMemberIdLoader).prime(member.id, preferences)
        return MemberPayload(member=Member.from_model(member))

    @strawberry.mutation(
        description=(
            "Erase the member's personal data and end every session (password required); "
            "purchases and points stay, detached from any person."
        ),
        permission_classes=[IsMember],
    )
    @returns_user_errors(CloseAccountPayload)
    async def close_account(self, info: Info, input: CloseAccountInput) -> CloseAccountPayload:  # noqa: A002 (contract)
        await services.close_account(
            member=info.context.signed_in_member,
            password=input.password,
            client_ip=info.context.client_ip,
            settings=info.context.settings,
        )
        clear_session_cookie(info.context)
        info.context.forget_authentication()
        return CloseAccountPayload(ok=True)
