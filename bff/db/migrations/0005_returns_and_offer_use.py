from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from bff.loyalty.models import EntryKind
from decimal import Decimal
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class AlterFieldStateOnly(ops.AlterField):
    """A change the database does not hold (an enum's description): the state only. On SQLite
    AlterField rebuilds the table, and the copy trips the foreign keys of rows that point at it."""

    async def database_forward(self, *args: object, **kwargs: object) -> None:
        return None

    async def database_backward(self, *args: object, **kwargs: object) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('bff', '0004_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PurchaseReturn',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('return_id', fields.CharField(unique=True, max_length=64)),
                ('request_fingerprint', fields.CharField(max_length=64)),
                ('purchase', fields.ForeignKeyField('bff.Purchase', source_field='purchase_id', db_constraint=True, to_field='id', related_name='returns', on_delete=OnDelete.RESTRICT)),
                ('amount', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('points_returned', fields.IntField()),
                ('points_shortfall', fields.IntField()),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'purchase_return', 'app': 'bff', 'indexes': [Index(fields=['purchase_id', 'id'])], 'pk_attr': 'id', 'table_description': "Goods brought back against a receipt. `return_id` is the store's idempotency key."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Offer',
            name='single_use',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='OfferActivation',
            name='used_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        AlterFieldStateOnly(
            model_name='PointsEntry',
            name='kind',
            field=fields.CharEnumField(description='EARN: EARN\nREDEEM: REDEEM\nEXPIRE: EXPIRE\nFORFEIT: FORFEIT\nADJUST: ADJUST\nREFUND: REFUND\nRETURN: RETURN', enum_type=EntryKind, max_length=7),
        ),
        ops.AddField(
            model_name='Purchase',
            name='offers_applied',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Purchase',
            name='points_returned',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Purchase',
            name='returned_total',
            field=fields.DecimalField(default=Decimal('0'), db_default=Decimal('0'), max_digits=14, decimal_places=2),
        ),
    ]
