"""Indexes for the access paths of the screens: a member's cards, sessions, activations and
the rows erasing a member deletes (tests/db/test_indexes.py EXPLAINs the client operations)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('bff', '0003_rewards')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Card',
            index=Index(fields=['member_id', 'linked_at', 'id']),
        ),
        ops.AddIndex(
            model_name='ConsentEvent',
            index=Index(fields=['member_id']),
        ),
        ops.AddIndex(
            model_name='Offer',
            index=Index(fields=['member_id']),
        ),
        ops.AddIndex(
            model_name='OfferActivation',
            index=Index(fields=['member_id']),
        ),
        ops.AddIndex(
            model_name='RecoveryCode',
            index=Index(fields=['member_id']),
        ),
        ops.AddIndex(
            model_name='Session',
            index=Index(fields=['member_id']),
        ),
        ops.AddIndex(
            model_name='TwoFactorChallenge',
            index=Index(fields=['member_id']),
        ),
    ]
