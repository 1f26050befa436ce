"""Indexes for the access paths tests/db/test_indexes.py found once every table that grows with
the members was seeded: a coupon by the receipt that used it, a return's EARN entry by purchase,
a coupon's draws (cancelling), a member's deliveries and email tokens (closing an account), and
push devices by session and member."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('bff', '0006_messages')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Coupon',
            index=Index(fields=['used_purchase_id']),
        ),
        ops.AddIndex(
            model_name='Delivery',
            index=Index(fields=['member_id']),
        ),
        ops.AddIndex(
            model_name='EmailToken',
            index=Index(fields=['member_id']),
        ),
        ops.AddIndex(
            model_name='PointsDraw',
            index=Index(fields=['entry_id', 'id']),
        ),
        ops.AddIndex(
            model_name='PointsEntry',
            index=Index(fields=['purchase_id']),
        ),
        ops.AddIndex(
            model_name='PushDevice',
            index=Index(fields=['member_id']),
        ),
        ops.AddIndex(
            model_name='PushDevice',
            index=Index(fields=['session_id']),
        ),
    ]
