"""Profile mutations: profile fields, notification preferences and closing the account."""

from __future__ import annotations

import strawberry

from bff.errors import DomainError, DomainErrors
from bff.graphql.context import Info
from bff.graphql.identity.mutations import errors_of
from bff.graphql.identity.types import CloseAccountInput, CloseAccountPayload, Member, MemberPayload
from bff.graphql.profile.loaders import PreferencesByMemberIdLoader
from bff.graphql.profile.types import UpdatePreferencesInput, UpdateProfileInput
from bff.graphql.session import clear_session_cookie
from bff.profile import services


@strawberry.type
class ProfileMutation:
    @strawberry.mutation
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> MemberPayload:  # noqa: A002 (contract)
        member = await info.context.require_member()
        changes = services.ProfileChanges(
            first_name=input.first_name,
            last_name=input.last_name,
            phone=input.phone,
            company_name=input.company_name,
            tax_id=input.tax_id,
        )
        try:
            member = await services.update_profile(member=member, changes=changes)
        except (DomainError, DomainErrors) as error:
            return MemberPayload(user_errors=errors_of(error))
        return MemberPayload(member=Member.from_model(member))

    @strawberry.mutation(
        description="Each marketing switch that changes is recorded with its time."
    )
    async def update_preferences(
        self,
        info: Info,
        input: UpdatePreferencesInput,  # noqa: A002 (contract)
    ) -> MemberPayload:
        member = await info.context.require_member()
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
        )
    )
    async def close_account(self, info: Info, input: CloseAccountInput) -> CloseAccountPayload:  # noqa: A002 (contract)
        member = await info.context.require_member()
        try:
            await services.close_account(
                member=member,
                password=input.password,
                client_ip=info.context.client_ip,
                settings=info.context.settings,
            )
        except DomainError as error:
            return CloseAccountPayload(ok=False, user_errors=errors_of(error))
        clear_session_cookie(info.context)
        info.context.forget_authentication()
        return CloseAccountPayload(ok=True)
