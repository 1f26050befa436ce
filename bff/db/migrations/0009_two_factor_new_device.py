"""A two-factor challenge remembers whether its device showed the account's device token, so
the session it opens sends NEW_SIGN_IN only for a new device (docs/identity.md)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("bff", "0008_jobs")]

    initial = False

    operations = [
        ops.AddField(
            model_name="TwoFactorChallenge",
            name="new_device",
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
