from tortoise import migrations
from tortoise.migrations import operations as ops
from bff.loyalty.models import CouponStatus, EntryKind, TierCode
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
    dependencies = [('bff', '0002_tiers')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PointsDraw',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('bff.PointsEntry', source_field='entry_id', db_constraint=True, to_field='id', related_name='draws', on_delete=OnDelete.RESTRICT)),
                ('lot', fields.ForeignKeyField('bff.PointsLot', source_field='lot_id', db_constraint=True, to_field='id', related_name='draws', on_delete=OnDelete.RESTRICT)),
                ('points', fields.IntField()),
            ],
            options={'table': 'points_draw', 'app': 'bff', 'pk_attr': 'id', 'table_description': 'What one REDEEM entry took from one lot: cancelling a coupon puts it back.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Reward',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(unique=False)),
                ('cost', fields.IntField()),
                ('stock', fields.IntField(null=True)),
                ('valid_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('minimum_tier', fields.CharEnumField(null=True, description='BLUE: BLUE\nSILVER: SILVER\nGOLD: GOLD', enum_type=TierCode, max_length=6)),
                ('coupon_valid_days', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'reward', 'app': 'bff', 'indexes': [Index(fields=['cost', 'id'])], 'pk_attr': 'id', 'table_description': 'Something members buy with points, published by the store systems.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Coupon',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('member', fields.ForeignKeyField('bff.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='coupons', on_delete=OnDelete.RESTRICT)),
                ('reward', fields.ForeignKeyField('bff.Reward', source_field='reward_id', db_constraint=True, to_field='id', related_name='coupons', on_delete=OnDelete.RESTRICT)),
                ('idempotency_key', fields.CharField(max_length=100)),
                ('redeem_entry', fields.OneToOneField('bff.PointsEntry', source_field='redeem_entry_id', db_constraint=True, to_field='id', related_name='coupon', on_delete=OnDelete.RESTRICT)),
                ('points_spent', fields.IntField()),
                ('status', fields.CharEnumField(default=CouponStatus.ACTIVE, description='ACTIVE: ACTIVE\nUSED: USED\nCANCELLED: CANCELLED', enum_type=CouponStatus, max_length=9)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('valid_until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('used_purchase', fields.ForeignKeyField('bff.Purchase', source_field='used_purchase_id', null=True, db_constraint=True, to_field='id', related_name='coupons_used', on_delete=OnDelete.RESTRICT)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'coupon', 'app': 'bff', 'unique_together': (('member', 'idempotency_key'),), 'indexes': [Index(fields=['member_id', 'issued_at', 'id'])], 'pk_attr': 'id', 'table_description': 'A reward bought with points: shown at the till by its code, used at most once.'},
            bases=['Model'],
        ),
        AlterFieldStateOnly(
            model_name='PointsEntry',
            name='kind',
            field=fields.CharEnumField(description='EARN: EARN\nREDEEM: REDEEM\nEXPIRE: EXPIRE\nFORFEIT: FORFEIT\nADJUST: ADJUST\nREFUND: REFUND', enum_type=EntryKind, max_length=7),
        ),
        ops.AddField(
            model_name='PointsEntry',
            name='reward',
            field=fields.ForeignKeyField('bff.Reward', source_field='reward_id', null=True, db_constraint=True, to_field='id', related_name='points_entries', on_delete=OnDelete.RESTRICT),
        ),
    ]
