"""Messages mutations: the bell, push devices, and the links sent by mail (verification,
password reset, email change)."""

from __future__ import annotations

import strawberry

from bff.errors import DomainError, ErrorCode
from bff.graphql.context import Info
from bff.graphql.errors import returns_user_errors
from bff.graphql.identity.types import Member, MemberPayload
from bff.graphql.messages.types import (
    MarkNotificationsReadInput,
    PushDevice,
    PushDeviceIdInput,
    PushDevicePayload,
    RegisterPushDeviceInput,
    RequestAcceptedPayload,
    RequestEmailChangeInput,
    RequestPasswordResetInput,
    ResetPasswordInput,
    TokenInput,
)
from bff.graphql.permissions import IsMember
from bff.identity import email_flows
from bff.ids import expect_global_id
from bff.messages import devices, notifications
from bff.messages.models import PushPlatform


@strawberry.type
class MessagesMutation:
    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(MemberPayload)
    async def mark_notifications_read(
        self,
        info: Info,
        input: MarkNotificationsReadInput,  # noqa: A002 (contract)
    ) -> MemberPayload:
        member = info.context.signed_in_member
        ids = None
        if input.ids is not None:
            ids = [expect_global_id(value, "Notification", field="ids") for value in input.ids]
        await notifications.mark_read(member_id=member.id, ids=ids)
        return MemberPayload(member=Member.from_model(member))

    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(PushDevicePayload)
    async def register_push_device(
        self,
        info: Info,
        input: RegisterPushDeviceInput,  # noqa: A002 (contract)
    ) -> PushDevicePayload:
        member = info.context.signed_in_member
        session = await info.context.session()
        if session is None:
            raise DomainError(ErrorCode.NOT_FOUND, "No session.")
        device = await devices.register_push_device(
            member_id=member.id,
            session_id=session.id,
            platform=PushPlatform(input.platform.value),
            token=input.token,
            name=input.name,
        )
        return PushDevicePayload(device=PushDevice.from_model(device))

    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(MemberPayload)
    async def unregister_push_device(
        self,
        info: Info,
        input: PushDeviceIdInput,  # noqa: A002 (contract)
    ) -> MemberPayload:
        member = info.context.signed_in_member
        pk = expect_global_id(input.device_id, "PushDevice", field="deviceId")
        await devices.unregister_push_device(member_id=member.id, device_id=pk)
        return MemberPayload(member=Member.from_model(member))

    @strawberry.mutation(
        description="Sends the verification link again (throttled).",
        permission_classes=[IsMember],
    )
    @returns_user_errors(MemberPayload)
    async def request_email_verification(self, info: Info) -> MemberPayload:
        member = await email_flows.request_email_verification(
            member=info.context.signed_in_member,
            client_ip=info.context.client_ip,
            settings=info.context.settings,
        )
        return MemberPayload(member=Member.from_model(member))

    @strawberry.mutation
    @returns_user_errors(MemberPayload)
    async def verify_email(self, input: TokenInput) -> MemberPayload:  # noqa: A002 (contract)
        member = await email_flows.verify_email(token=input.token)
        return MemberPayload(member=Member.from_model(member))

    @strawberry.mutation
    @returns_user_errors(RequestAcceptedPayload)
    async def request_password_reset(
        self,
        info: Info,
        input: RequestPasswordResetInput,  # noqa: A002 (contract)
    ) -> RequestAcceptedPayload:
        await email_flows.request_password_reset(
            email=input.email, client_ip=info.context.client_ip, settings=info.context.settings
        )
        return RequestAcceptedPayload(ok=True)

    @strawberry.mutation
    @returns_user_errors(RequestAcceptedPayload)
    async def reset_password(
        self,
        info: Info,
        input: ResetPasswordInput,  # noqa: A002 (contract)
    ) -> RequestAcceptedPayload:
        await email_flows.reset_password(
            token=input.token, new_password=input.new_password, settings=info.context.settings
        )
        return RequestAcceptedPayload(ok=True)

    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(MemberPayload)
    async def request_email_change(
        self,
        info: Info,
        input: RequestEmailChangeInput,  # noqa: A002 (contract)
    ) -> MemberPayload:
        member = await email_flows.request_email_change(
            member=info.context.signed_in_member,
            new_email=input.new_email,
            password=input.password,
            client_ip=info.context.client_ip,
            settings=info.context.settings,
        )
        return MemberPayload(member=Member.from_model(member))

    @strawberry.mutation
    @returns_user_errors(MemberPayload)
    async def confirm_email_change(self, input: TokenInput) -> MemberPayload:  # noqa: A002 (contract)
        member = await email_flows.confirm_email_change(token=input.token)
        return MemberPayload(member=Member.from_model(member))
