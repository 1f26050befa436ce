"""Who may resolve a field: Strawberry permission classes, each with a message for people."""

from __future__ import annotations

from strawberry.permission import BasePermission

from bff.graphql.context import Info
from bff.graphql.errors import SIGN_IN_TO_SEE, UnauthenticatedError


class IsMember(BasePermission):
    """The caller has a live session: a top-level UNAUTHENTICATED error otherwise.

    The resolver then reads the member as `info.context.signed_in_member`; the session was
    looked up once for the whole request.
    """

    message = SIGN_IN_TO_SEE
    error_class = UnauthenticatedError

    async def has_permission(self, source: object, info: Info, **kwargs: object) -> bool:
        del source, kwargs
        return await info.context.member() is not None
