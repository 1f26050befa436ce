"""Program participation: joinProgram and optOut."""

from __future__ import annotations

import strawberry

from bff.errors import DomainError
from bff.graphql.context import Info
from bff.graphql.errors import user_error
from bff.graphql.identity.types import Member, MemberPayload
from bff.points import program


@strawberry.input
class JoinProgramInput:
    accept_rules: bool


@strawberry.input
class OptOutInput:
    password: str


@strawberry.type
class ProgramMutation:
    @strawberry.mutation
    async def join_program(self, info: Info, input: JoinProgramInput) -> MemberPayload:  # noqa: A002 (contract)
        member = await info.context.require_member()
        try:
            await program.join_program(member=member, accept_rules=input.accept_rules)
        except DomainError as error:
            return MemberPayload(member=None, user_errors=[user_error(error)])
        return MemberPayload(member=Member.from_model(member), user_errors=[])

    @strawberry.mutation
    async def opt_out(self, info: Info, input: OptOutInput) -> MemberPayload:  # noqa: A002 (contract)
        member = await info.context.require_member()
        try:
            await program.opt_out(
                member=member,
                password=input.password,
                client_ip=info.context.client_ip,
                settings=info.context.settings,
            )
        except DomainError as error:
            return MemberPayload(member=None, user_errors=[user_error(error)])
        return MemberPayload(member=Member.from_model(member), user_errors=[])
