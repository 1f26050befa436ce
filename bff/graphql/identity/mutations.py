"""Identity mutations: register, sign in and out, sessions, password and two-factor setup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from bff.errors import DomainError, DomainErrors
from bff.graphql.context import Info
from bff.graphql.errors import UserError, user_error, user_errors
from bff.graphql.identity.types import (
    AuthPayload,
    ChangePasswordInput,
    ConfirmTwoFactorSetupInput,
    ConfirmTwoFactorSetupPayload,
    DisableTwoFactorInput,
    LoginInput,
    LogoutPayload,
    Member,
    MemberPayload,
    RegisterInput,
    RevokeSessionInput,
    TwoFactorSetupPayload,
    VerifyTwoFactorInput,
)
from bff.graphql.identity.types import SessionTransport as GraphQLSessionTransport
from bff.graphql.session import (
    clear_session_cookie,
    set_session_cookie,
    uses_session_cookie,
)
from bff.identity import accounts, models, two_factor_setup
from bff.identity.models import SessionTransport
from bff.identity.sessions import Authentication
from bff.ids import expect_global_id


def errors_of(error: DomainError | DomainErrors) -> list[UserError]:
    if isinstance(error, DomainErrors):
        return user_errors(error.errors)
    return [user_error(error)]


def transport_of(value: GraphQLSessionTransport | None) -> SessionTransport:
    return SessionTransport[value.name] if value is not None else SessionTransport.COOKIE


def user_agent(info: Info) -> str | None:
    return info.context.request.headers.get("user-agent")


def signed_in(info: Info, result: accounts.SignIn) -> AuthPayload:
    """The payload of a finished sign-in step: the cookie set, or the bearer token returned once."""
    if result.challenge is not None:
        return AuthPayload(two_factor_challenge=result.challenge)
    if result.member is None or result.session is None or result.token is None:
        raise RuntimeError("a sign-in without a challenge has a session")
    info.context.remember_authentication(
        Authentication(member=result.member, session=result.session)
    )
    member = Member.from_model(result.member)
    if result.session.transport is SessionTransport.COOKIE:
        set_session_cookie(info.context, result.token)
        return AuthPayload(member=member)
    return AuthPayload(member=member, token=result.token)


async def sensitive_change(
    info: Info, change: Callable[..., Awaitable[models.Member]], **secrets: str
) -> MemberPayload:
    """A re-authenticated change of the signed-in member that keeps this request's session and
    ends their others (`change` gets the member, the secrets, the session id and the address)."""
    member = await info.context.require_member()
    session = await info.context.session()
    try:
        member = await change(
            member=member,
            current_session_id=session.id if session else None,
            client_ip=info.context.client_ip,
            settings=info.context.settings,
            **secrets,
        )
    except DomainError as error:
        return MemberPayload(user_errors=errors_of(error))
    return MemberPayload(member=Member.from_model(member))


@strawberry.type
class IdentityMutation:
    @strawberry.mutation
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:  # noqa: A002 (contract)
        data = accounts.Registration(
            email=input.email,
            password=input.password,
            first_name=input.first_name,
            last_name=input.last_name,
            phone=input.phone,
            company_name=input.company_name,
            tax_id=input.tax_id,
            accept_terms=input.accept_terms,
        )
        try:
            result = await accounts.register(
                data=data,
                transport=transport_of(input.session_transport),
                user_agent=user_agent(info),
                client_ip=info.context.client_ip,
                settings=info.context.settings,
            )
        except (DomainError, DomainErrors) as error:
            return AuthPayload(user_errors=errors_of(error))
        return signed_in(info, result)

    @strawberry.mutation
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:  # noqa: A002 (contract)
        try:
            result = await accounts.login(
                email=input.email,
                password=input.password,
                transport=transport_of(input.session_transport),
                user_agent=user_agent(info),
                client_ip=info.context.client_ip,
                settings=info.context.settings,
            )
        except DomainError as error:
            return AuthPayload(user_errors=errors_of(error))
        return signed_in(info, result)

    @strawberry.mutation
    async def verify_two_factor(self, info: Info, input: VerifyTwoFactorInput) -> AuthPayload:  # noqa: A002 (contract)
        try:
            result = await accounts.verify_two_factor(
                challenge=input.challenge,
                code=input.code,
                client_ip=info.context.client_ip,
                settings=info.context.settings,
            )
        except DomainError as error:
            return AuthPayload(user_errors=errors_of(error))
        return signed_in(info, result)

    @strawberry.mutation(description="End this request's session (and clear its cookie).")
    async def logout(self, info: Info) -> LogoutPayload:
        session = await info.context.session()
        if session is not None:
            await accounts.logout(session_id=session.id)
        if uses_session_cookie(info.context.request, info.context.settings):
            clear_session_cookie(info.context)
        info.context.forget_authentication()
        return LogoutPayload(ok=True)

    @strawberry.mutation(description="A new password; every other session ends.")
    async def change_password(self, info: Info, input: ChangePasswordInput) -> MemberPayload:  # noqa: A002 (contract)
        return await sensitive_change(
            info,
            accounts.change_password,
            current_password=input.current_password,
            new_password=input.new_password,
        )

    @strawberry.mutation
    async def revoke_session(self, info: Info, input: RevokeSessionInput) -> MemberPayload:  # noqa: A002 (contract)
        member = await info.context.require_member()
        try:
            session_id = expect_global_id(input.session_id, "Session", field="sessionId")
            await accounts.revoke_session(member_id=member.id, session_id=session_id)
        except DomainError as error:
            return MemberPayload(user_errors=errors_of(error))
        current = await info.context.session()
        if (
            current is not None
            and current.id == session_id
            and uses_session_cookie(info.context.request, info.context.settings)
        ):
            clear_session_cookie(info.context)
        return MemberPayload(member=Member.from_model(member))

    @strawberry.mutation
    async def start_two_factor_setup(self, info: Info) -> TwoFactorSetupPayload:
        member = await info.context.require_member()
        try:
            pending = await two_factor_setup.start_setup(
                member=member, settings=info.context.settings
            )
        except DomainError as error:
            return TwoFactorSetupPayload(user_errors=errors_of(error))
        return TwoFactorSetupPayload(
            secret=pending.secret, provisioning_uri=pending.provisioning_uri
        )

    @strawberry.mutation
    async def confirm_two_factor_setup(
        self,
        info: Info,
        input: ConfirmTwoFactorSetupInput,  # noqa: A002 (contract)
    ) -> ConfirmTwoFactorSetupPayload:
        member = await info.context.require_member()
        try:
            codes = await two_factor_setup.confirm_setup(
                member=member,
                code=input.code,
                client_ip=info.context.client_ip,
                settings=info.context.settings,
            )
        except DomainError as error:
            return ConfirmTwoFactorSetupPayload(user_errors=errors_of(error))
        return ConfirmTwoFactorSetupPayload(recovery_codes=codes, member=Member.from_model(member))

    @strawberry.mutation(description="Needs the password and a code; every other session ends.")
    async def disable_two_factor(self, info: Info, input: DisableTwoFactorInput) -> MemberPayload:  # noqa: A002 (contract)
        return await sensitive_change(
            info, two_factor_setup.disable, password=input.password, code=input.code
        )
