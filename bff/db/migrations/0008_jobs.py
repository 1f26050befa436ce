from tortoise import migrations
from tortoise.migrations import operations as ops
from bff.outbox.models import DeliveryStatus
from tortoise import fields
from tortoise.indexes import Index
from pathlib import Path

# Deliveries move onto procrastinate's jobs (bff/messages/jobs.py): its schema, exactly as
# procrastinate 3.10.0 ships it (pinned in pyproject.toml), on PostgreSQL; SQLite keeps its
# jobs in memory (procrastinate's InMemoryConnector) and needs no tables.
PROCRASTINATE_SCHEMA = Path(__file__).with_name("procrastinate_3_10_0.sql")


async def apply_procrastinate_schema(apps, schema_editor):
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return
    await client.execute_script(PROCRASTINATE_SCHEMA.read_text())


class Migration(migrations.Migration):
    dependencies = [('bff', '0007_member_indexes')]

    initial = False

    operations = [
        # Rows a lease-based worker had claimed go back to the queue; the relay gives them jobs.
        ops.RunSQL("UPDATE delivery SET status = 'PENDING' WHERE status = 'CLAIMED'"),
        ops.RunPython(apply_procrastinate_schema),
        ops.RemoveIndex(
            model_name='Delivery',
            name=None,
            fields=['status', 'next_attempt_at'],
        ),
        ops.AlterField(
            model_name='Delivery',
            name='status',
            field=fields.CharEnumField(default=DeliveryStatus.PENDING, description='PENDING: PENDING\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED', enum_type=DeliveryStatus, max_length=7),
        ),
        ops.AddField(
            model_name='Delivery',
            name='job_id',
            field=fields.BigIntField(null=True, db_index=True),
        ),
        ops.RemoveField(model_name='Delivery', name='lease_owner'),
        ops.RemoveField(model_name='Delivery', name='lease_until'),
        ops.RemoveField(model_name='Delivery', name='next_attempt_at'),
        ops.AddIndex(
            model_name='Delivery',
            index=Index(fields=['status', 'created_at']),
        ),
        ops.AlterModelOptions(
            name='MemberTier',
            options={'table': 'member_tier', 'app': 'bff', 'pk_attr': 'member_id', 'table_description': 'The tier a member was last evaluated at (reads evaluate again, see bff.loyalty.tiers).'},
        ),
        ops.AlterModelOptions(
            name='OutboxMessage',
            options={'table': 'outbox_message', 'app': 'bff', 'pk_attr': 'id', 'table_description': 'A message some committed change caused, waiting for the relay (bff.messages.jobs).'},
        ),
        ops.AlterModelOptions(
            name='Preferences',
            options={'table': 'preferences', 'app': 'bff', 'pk_attr': 'member_id'},
        ),
    ]
