"""The outbox table."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class OutboxMessage(Model):
    """A message some committed change caused, waiting for the worker.

    dispatched_at is set once the worker has turned it into a notification and deliveries (in
    one transaction, once)."""

    id = fields.BigIntField(primary_key=True)
    # None for a password reset: the worker looks the address up (see identity.email_flows).
    member_id = fields.BigIntField(null=True, db_index=True)
    kind = fields.CharField(max_length=40)
    params: dict[str, Any] = fields.JSONField(default=dict)
    # Once per key: the daily expiry scan sends one notice per member and expiry date.
    dedup_key = fields.CharField(max_length=200, null=True, unique=True)
    created_at = fields.DatetimeField()
    dispatched_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "outbox_message"
