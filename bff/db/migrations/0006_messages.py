from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from bff.identity.models import EmailTokenPurpose
from bff.messages.models import PushPlatform
from bff.outbox.models import DeliveryChannel, DeliveryStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('bff', '0005_returns_and_offer_use')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message_id', fields.BigIntField()),
                ('member_id', fields.BigIntField(null=True)),
                ('channel', fields.CharEnumField(description='EMAIL: EMAIL\nPUSH: PUSH', enum_type=DeliveryChannel, max_length=5)),
                ('address', fields.CharField(max_length=512)),
                ('kind', fields.CharField(max_length=40)),
                ('language', fields.CharField(max_length=2)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=DeliveryStatus.PENDING, description='PENDING: PENDING\nCLAIMED: CLAIMED\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED', enum_type=DeliveryStatus, max_length=7)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('lease_owner', fields.CharField(null=True, max_length=100)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(null=True, max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'delivery', 'app': 'bff', 'unique_together': (('message_id', 'channel', 'address'),), 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'One message on one channel to one address (a mailbox or a push device token).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EmailToken',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('bff.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='email_tokens', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharEnumField(description='VERIFY_EMAIL: VERIFY_EMAIL\nRESET_PASSWORD: RESET_PASSWORD\nCHANGE_EMAIL: CHANGE_EMAIL', enum_type=EmailTokenPurpose, max_length=14)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('email', fields.CharField(null=True, max_length=320)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'email_token', 'app': 'bff', 'pk_attr': 'id', 'table_description': 'A one-time link sent by mail, stored as the SHA-256 of its token.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('bff.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('message_id', fields.BigIntField(unique=True)),
                ('kind', fields.CharField(max_length=40)),
                ('title', fields.CharField(max_length=200)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification', 'app': 'bff', 'indexes': [Index(fields=['member_id', 'read_at'])], 'pk_attr': 'id', 'table_description': 'A notice in the bell of a member, one per outbox message at most.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.BigIntField(null=True, db_index=True)),
                ('kind', fields.CharField(max_length=40)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('dedup_key', fields.CharField(null=True, unique=True, max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('dispatched_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_message', 'app': 'bff', 'pk_attr': 'id', 'table_description': 'A message some committed change caused, waiting for the worker.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PushDevice',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('bff.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='push_devices', on_delete=OnDelete.CASCADE)),
                ('session', fields.ForeignKeyField('bff.Session', source_field='session_id', db_constraint=True, to_field='id', related_name='push_devices', on_delete=OnDelete.CASCADE)),
                ('platform', fields.CharEnumField(description='ANDROID: ANDROID\nIOS: IOS\nWEB: WEB', enum_type=PushPlatform, max_length=7)),
                ('token', fields.CharField(unique=True, max_length=512)),
                ('name', fields.CharField(null=True, max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'push_device', 'app': 'bff', 'pk_attr': 'id', 'table_description': 'A device that receives push messages, registered by (and ending with) its session.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Member',
            name='email_verified_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Member',
            name='language',
            field=fields.CharField(default='ru', db_default='ru', max_length=2),
        ),
    ]
