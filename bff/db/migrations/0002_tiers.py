from tortoise import migrations
from tortoise.migrations import operations as ops
from bff.loyalty.models import CardKind, DeactivationReason, TierCode
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('bff', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MemberTier',
            fields=[
                ('member', fields.OneToOneField('bff.Member', source_field='member_id', primary_key=True, db_index=True, db_constraint=True, to_field='id', related_name='tier', on_delete=OnDelete.CASCADE)),
                ('tier', fields.CharEnumField(description='BLUE: BLUE\nSILVER: SILVER\nGOLD: GOLD', enum_type=TierCode, max_length=6)),
                ('since', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('evaluated_month', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('counted_from', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'member_tier', 'app': 'bff', 'pk_attr': 'member_id', 'table_description': 'The tier a member was last evaluated at (reads evaluate again, see bff.loyalty.tiers).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TierChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('bff.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='tier_changes', on_delete=OnDelete.CASCADE)),
                ('from_tier', fields.CharEnumField(null=True, description='BLUE: BLUE\nSILVER: SILVER\nGOLD: GOLD', enum_type=TierCode, max_length=6)),
                ('to_tier', fields.CharEnumField(description='BLUE: BLUE\nSILVER: SILVER\nGOLD: GOLD', enum_type=TierCode, max_length=6)),
                ('changed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('window_spend', fields.DecimalField(max_digits=14, decimal_places=2)),
            ],
            options={'table': 'tier_change', 'app': 'bff', 'indexes': [Index(fields=['member_id', 'changed_at'])], 'pk_attr': 'id', 'table_description': "One change of a member's tier, for the history and the data export."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Card',
            name='deactivation_reason',
            field=fields.CharEnumField(null=True, description='LOST: LOST\nSTOLEN: STOLEN\nOTHER: OTHER', enum_type=DeactivationReason, max_length=6),
        ),
        ops.AddField(
            model_name='Card',
            name='kind',
            field=fields.CharEnumField(default=CardKind.PHYSICAL, description='PHYSICAL: PHYSICAL\nDIGITAL: DIGITAL', db_default='PHYSICAL', enum_type=CardKind, max_length=8),
        ),
        ops.AddField(
            model_name='Offer',
            name='minimum_tier',
            field=fields.CharField(null=True, max_length=8),
        ),
        ops.AddField(
            model_name='PointsEntry',
            name='multiplier',
            field=fields.DecimalField(null=True, max_digits=5, decimal_places=2),
        ),
    ]
