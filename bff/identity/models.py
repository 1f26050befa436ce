"""Members, their sessions and second factors."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class ProgramStatus(StrEnum):
    ENROLLED = "ENROLLED"
    OPTED_OUT = "OPTED_OUT"


class Language(StrEnum):
    """The language of a member's mail and notices (ISO 639-1)."""

    RU = "ru"
    EN = "en"


class SessionTransport(StrEnum):
    COOKIE = "COOKIE"
    BEARER = "BEARER"


class Member(Model):
    """A portal account. Personal fields are blanked when the account is closed."""

    id = fields.BigIntField(primary_key=True)
    # Stored normalised (see identity.validation); NULL once the account is closed, which frees it.
    email = fields.CharField(max_length=320, null=True, unique=True)
    password_hash = fields.CharField(max_length=255, null=True)
    first_name = fields.CharField(max_length=100, default="")
    last_name = fields.CharField(max_length=100, default="")
    phone = fields.CharField(max_length=16, null=True)
    company_name = fields.CharField(max_length=200, null=True)
    tax_id = fields.CharField(max_length=12, null=True)
    program_status = fields.CharEnumField(ProgramStatus, default=ProgramStatus.ENROLLED)
    terms_version = fields.CharField(max_length=32)
    terms_accepted_at = fields.DatetimeField()
    program_joined_at = fields.DatetimeField(null=True)
    # Fernet tokens; the confirmed secret and the one awaiting its first code.
    totp_secret = fields.TextField(null=True)
    totp_pending_secret = fields.TextField(null=True)
    totp_enabled_at = fields.DatetimeField(null=True)
    # The last accepted TOTP time step: a code for it or an earlier step is a replay.
    totp_last_step = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    closed_at = fields.DatetimeField(null=True)
    # Set when the member opened a verification link sent to the current address.
    email_verified_at = fields.DatetimeField(null=True)
    # The language of mail and notices: a `Language` value, chosen at registration and in the
    # profile.
    language = fields.CharField(max_length=2, default=Language.RU.value, db_default="ru")

    class Meta:
        table = "member"


class Session(Model):
    """A signed-in device. Only the SHA-256 of its token is stored."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="sessions", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    transport = fields.CharEnumField(SessionTransport)
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    user_agent = fields.CharField(max_length=512, null=True)
    revoked_at = fields.DatetimeField(null=True)

    member_id: int

    class Meta:
        table = "session"
        indexes = (("member_id",),)


class TwoFactorChallenge(Model):
    """A password-verified login waiting for its second factor."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="two_factor_challenges", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    transport = fields.CharEnumField(SessionTransport)
    user_agent = fields.CharField(max_length=512, null=True)
    # The password was right on a device that showed no device token of this account: the
    # session the second factor opens is a NEW_SIGN_IN (bff.identity.devices).
    new_device = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    member_id: int

    class Meta:
        table = "two_factor_challenge"
        indexes = (("member_id",),)


class RecoveryCode(Model):
    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="recovery_codes", on_delete=fields.CASCADE
    )
    code_hash = fields.CharField(max_length=64)
    used_at = fields.DatetimeField(null=True)

    member_id: int

    class Meta:
        table = "recovery_code"
        indexes = (("member_id",),)


class ThrottleCounter(Model):
    """Consecutive failures for one key (account+factor or client address+factor)."""

    key = fields.CharField(max_length=255, primary_key=True)
    failures = fields.IntField(default=0)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "throttle_counter"


class EmailTokenPurpose(StrEnum):
    VERIFY_EMAIL = "VERIFY_EMAIL"
    RESET_PASSWORD = "RESET_PASSWORD"  # noqa: S105 (a purpose name)
    CHANGE_EMAIL = "CHANGE_EMAIL"


class EmailToken(Model):
    """A one-time link sent by mail, stored as the SHA-256 of its token."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="email_tokens", on_delete=fields.CASCADE
    )
    purpose = fields.CharEnumField(EmailTokenPurpose)
    token_hash = fields.CharField(max_length=64, unique=True)
    # The address the link proves: the one verified, or the new one of an email change.
    email = fields.CharField(max_length=320, null=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    member_id: int

    class Meta:
        table = "email_token"
        indexes = (("member_id",),)
