"""Identity mutations: register, sign in and out, sessions, password and two-factor setup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from bff.graphql.context import Info
from bff.graphql.errors import returns_user_errors
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
from bff.graphql.permissions import IsMember
from bff.graphql.profile.types import Language as GraphQLLanguage
from bff.graphql.session import (
    clear_session_cookie,
    known_device,
    set_device_cookie,
    set_session_cookie,
    uses_session_cookie,
)
from bff.identity import accounts, models, two_factor_setup
from bff.identity.models import Language, SessionTransport
from bff.identity.sessions import Authentication
from bff.ids import expect_global_id


def transport_of(value: GraphQLSessionTransport | None) -> SessionTransport:
    return SessionTransport[value.name] if value is not None else SessionTransport.COOKIE


def user_agent(info: Info) -> str | None:
    return info.context.request.headers.get("user-agent")


def language_of(value: GraphQLLanguage | None, info: Info) -> Language:
    """The language asked for, else the request's Accept-Language best match (Russian when it
    asks for neither, or says nothing)."""
    if value is not None:
        return Language[value.name]
    accepted = parse_accept_header(
        info.context.request.headers.get("accept-language"), LanguageAccept
    )
    return Language(accepted.best_match([language.value for language in Language], Language.RU))


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
    session = await info.context.session()
    member = await change(
        member=info.context.signed_in_member,
        current_session_id=session.id if session else None,
        client_ip=info.context.client_ip,
        settings=info.context.settings,
        **secrets,
    )
    return MemberPayload(member=Member.from_model(member))


@strawberry.type
class IdentityMutation:
    @strawberry.mutation
    @returns_user_errors(AuthPayload)
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
            language=language_of(input.language, info),
        )
        result = await accounts.register(
            data=data,
            transport=transport_of(input.session_transport),
            user_agent=user_agent(info),
            client_ip=info.context.client_ip,
            settings=info.context.settings,
        )
        payload = signed_in(info, result)
        if result.device is not None:
            set_device_cookie(info.context, result.device)
        return payload

    @strawberry.mutation
    @returns_user_errors(AuthPayload)
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:  # noqa: A002 (contract)
        result = await accounts.login(
            email=input.email,
            password=input.password,
            transport=transport_of(input.session_transport),
            user_agent=user_agent(info),
            client_ip=info.context.client_ip,
            settings=info.context.settings,
            device=known_device(info.context),
        )
        payload = signed_in(info, result)
        if result.device is not None:
            set_device_cookie(info.context, result.device)
        return payload

    @strawberry.mutation
    @returns_user_errors(AuthPayload)
    async def verify_two_factor(self, info: Info, input: VerifyTwoFactorInput) -> AuthPayload:  # noqa: A002 (contract)
        result = await accounts.verify_two_factor(
            challenge=input.challenge,
            code=input.code,
            client_ip=info.context.client_ip,
            settings=info.context.settings,
        )
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

    @strawberry.mutation(
        description="A new password; every other session ends.", permission_classes=[IsMember]
    )
    @returns_user_errors(MemberPayload)
    async def change_password(self, info: Info, input: ChangePasswordInput) -> MemberPayload:  # noqa: A002 (contract)
        return await sensitive_change(
            info,
            accounts.change_password,
            current_password=input.current_password,
            new_password=input.new_password,
        )

    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(MemberPayload)
    async def revoke_session(self, info: Info, input: RevokeSessionInput) -> MemberPayload:  # noqa: A002 (contract)
        member = info.context.signed_in_member
        session_id = expect_global_id(input.session_id, "Session", field="sessionId")
        await accounts.revoke_session(member_id=member.id, session_id=session_id)
        current = await info.context.session()
        if (
            current is not None
            and current.id == session_id
            and uses_session_cookie(info.context.request, info.context.settings)
        ):
            clear_session_cookie(info.context)
        return MemberPayload(member=Member.from_model(member))

    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(TwoFactorSetupPayload)
    async def start_two_factor_setup(self, info: Info) -> TwoFactorSetupPayload:
        pending = await two_factor_setup.start_setup(
            member=info.context.signed_in_member, settings=info.context.settings
        )
        return TwoFactorSetupPayload(
            secret=pending.secret, provisioning_uri=pending.provisioning_uri
        )

    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(ConfirmTwoFactorSetupPayload)
    async def confirm_two_factor_setup(
        self,
        info: Info,
        input: ConfirmTwoFactorSetupInput,  # noqa: A002 (contract)
    ) -> ConfirmTwoFactorSetupPayload:
        member = info.context.signed_in_member
        codes = await two_factor_setup.confirm_setup(
            member=member,
            code=input.code,
            client_ip=info.context.client_ip,
            settings=info.context.settings,
        )
        return ConfirmTwoFactorSetupPayload(recovery_codes=codes, member=Member.from_model(member))

    @strawberry.mutation(
        description="Needs the password and a code; every other session ends.",
        permission_classes=[IsMember],
    )
    @returns_user_errors(MemberPayload)
    async def disable_two_factor(self, info: Info, input: DisableTwoFactorInput) -> MemberPayload:  # noqa: A002 (contract)
        return await sensitive_change(
            info, two_factor_setup.disable, password=input.password, code=input.code
        )
