"""Initial schema: members, catalog, ledgers, orders, idempotency records, API keys.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 09:02:19.540621

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import persistence.tables

# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.Column('revoked_at', persistence.tables.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    op.create_table('coupon_templates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('min_spend', sa.BigInteger(), nullable=False),
    sa.Column('discount_amount', sa.BigInteger(), nullable=True),
    sa.Column('discount_percent', sa.Integer(), nullable=True),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('valid_until_month_end', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_templates')),
    sa.UniqueConstraint('code', name=op.f('uq_coupon_templates_code'))
    )
    op.create_table('tiers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('growth_threshold', sa.Integer(), nullable=False),
    sa.Column('points_multiplier', sa.Numeric(precision=6, scale=3), nullable=False),
    sa.Column('retention_deduction', sa.Integer(), nullable=False),
    sa.CheckConstraint('growth_threshold >= 0', name=op.f('ck_tiers_threshold_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiers')),
    sa.UniqueConstraint('code', name=op.f('uq_tiers_code')),
    sa.UniqueConstraint('level', name=op.f('uq_tiers_level'))
    )
    op.create_table('benefits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('tier_code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tier_code'], ['tiers.code'], name=op.f('fk_benefits_tier_code_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefits')),
    sa.UniqueConstraint('code', name=op.f('uq_benefits_code'))
    )
    op.create_table('members',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('member_no', sa.String(length=16), nullable=False),
    sa.Column('openid', sa.String(length=128), nullable=False),
    sa.Column('unionid', sa.String(length=128), nullable=True),
    sa.Column('nickname', sa.String(length=64), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('birthday', sa.Date(), nullable=True),
    sa.Column('gender', sa.String(length=16), nullable=True),
    sa.Column('household_size', sa.Integer(), nullable=True),
    sa.Column('tier_code', sa.String(length=32), nullable=False),
    sa.Column('tier_expires_at', persistence.tables.UtcDateTime(), nullable=True),
    sa.Column('growth_value', sa.Integer(), nullable=False),
    sa.Column('points_balance', sa.BigInteger(), nullable=False),
    sa.Column('points_debt', sa.BigInteger(), nullable=False),
    sa.Column('created_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.CheckConstraint('growth_value >= 0', name=op.f('ck_members_growth_not_negative')),
    sa.CheckConstraint('points_debt >= 0', name=op.f('ck_members_debt_not_negative')),
    sa.ForeignKeyConstraint(['tier_code'], ['tiers.code'], name=op.f('fk_members_tier_code_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('member_no', name=op.f('uq_members_member_no')),
    sa.UniqueConstraint('openid', name=op.f('uq_members_openid'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_unionid'), ['unionid'], unique=False)

    op.create_table('rewards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('points_cost', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('min_tier_level', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('coupon_template', sa.String(length=64), nullable=True),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.CheckConstraint('points_cost > 0', name=op.f('ck_rewards_cost_positive')),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name=op.f('ck_rewards_stock_not_negative')),
    sa.ForeignKeyConstraint(['coupon_template'], ['coupon_templates.code'], name=op.f('fk_rewards_coupon_template_coupon_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rewards')),
    sa.UniqueConstraint('code', name=op.f('uq_rewards_code'))
    )
    op.create_table('check_ins',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('streak_days', sa.Integer(), nullable=False),
    sa.Column('points_awarded', sa.Integer(), nullable=False),
    sa.Column('created_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.CheckConstraint('streak_days >= 1', name=op.f('ck_check_ins_streak_positive')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_check_ins_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_ins')),
    sa.UniqueConstraint('member_id', 'local_date', name='uq_check_ins_member_id_local_date')
    )
    op.create_table('coupons',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('template_code', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('min_spend', sa.BigInteger(), nullable=False),
    sa.Column('discount_amount', sa.BigInteger(), nullable=True),
    sa.Column('discount_percent', sa.Integer(), nullable=True),
    sa.Column('valid_from', persistence.tables.UtcDateTime(), nullable=False),
    sa.Column('valid_until', persistence.tables.UtcDateTime(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('claim_period', sa.String(length=7), nullable=True),
    sa.Column('used_at', persistence.tables.UtcDateTime(), nullable=True),
    sa.Column('used_order_id', sa.String(length=128), nullable=True),
    sa.Column('used_order_amount', sa.BigInteger(), nullable=True),
    sa.Column('applied_discount', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("status IN ('AVAILABLE', 'USED')", name=op.f('ck_coupons_status_known')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_coupons_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons'))
    )
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.create_index('ix_coupons_member_id_id', ['member_id', 'id'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('operation', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('result_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_idempotency_keys_member_id_members')),
    sa.PrimaryKeyConstraint('member_id', 'operation', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('monthly_coupon_claims',
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('claimed_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_monthly_coupon_claims_member_id_members')),
    sa.PrimaryKeyConstraint('member_id', 'period', name=op.f('pk_monthly_coupon_claims'))
    )
    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('shipping_fee', sa.BigInteger(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('paid_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.Column('refunded_amount', sa.BigInteger(), nullable=False),
    sa.Column('points_earned', sa.BigInteger(), nullable=False),
    sa.Column('growth_earned', sa.Integer(), nullable=False),
    sa.Column('points_taken_back', sa.BigInteger(), nullable=False),
    sa.Column('growth_taken_back', sa.Integer(), nullable=False),
    sa.Column('created_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_orders_amount_not_negative')),
    sa.CheckConstraint('refunded_amount >= 0 AND refunded_amount <= amount', name=op.f('ck_orders_refund_within_amount')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_orders_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('external_id', name=op.f('uq_orders_external_id'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_member_id_id', ['member_id', 'id'], unique=False)

    op.create_table('points_offsets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_order_id', sa.String(length=128), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('amount_off', sa.BigInteger(), nullable=False),
    sa.Column('order_amount', sa.BigInteger(), nullable=False),
    sa.Column('points_returned', sa.BigInteger(), nullable=False),
    sa.Column('created_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.CheckConstraint('points > 0 AND points_returned <= points', name=op.f('ck_points_offsets_points_within_offset')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_points_offsets_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_offsets')),
    sa.UniqueConstraint('external_order_id', name=op.f('uq_points_offsets_external_order_id'))
    )
    op.create_table('profile_tasks',
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task', sa.String(length=32), nullable=False),
    sa.Column('completed_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_profile_tasks_member_id_members')),
    sa.PrimaryKeyConstraint('member_id', 'task', name=op.f('pk_profile_tasks'))
    )
    op.create_table('tier_gifts',
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('granted_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_tier_gifts_member_id_members')),
    sa.PrimaryKeyConstraint('member_id', 'level', name=op.f('pk_tier_gifts'))
    )
    op.create_table('growth_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('growth_after', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_growth_entries_member_id_members')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_growth_entries_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_growth_entries'))
    )
    with op.batch_alter_table('growth_entries', schema=None) as batch_op:
        batch_op.create_index('ix_growth_entries_member_id_id', ['member_id', 'id'], unique=False)

    op.create_table('point_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('delta', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=False),
    sa.Column('description', sa.String(length=128), nullable=False),
    sa.Column('occurred_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.Column('expires_at', persistence.tables.UtcDateTime(), nullable=True),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_point_entries_member_id_members')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_point_entries_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_entries'))
    )
    with op.batch_alter_table('point_entries', schema=None) as batch_op:
        batch_op.create_index('ix_point_entries_member_id_id', ['member_id', 'id'], unique=False)

    op.create_table('redemptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reward_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points_spent', sa.Integer(), nullable=False),
    sa.Column('coupon_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('created_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_redemptions_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_redemptions_member_id_members')),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_redemptions_reward_id_rewards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redemptions'))
    )
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.create_index('ix_redemptions_member_id_id', ['member_id', 'id'], unique=False)

    op.create_table('refunds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_refund_id', sa.String(length=128), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('points_taken_back', sa.BigInteger(), nullable=False),
    sa.Column('growth_taken_back', sa.Integer(), nullable=False),
    sa.Column('points_returned', sa.BigInteger(), nullable=False),
    sa.Column('created_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_refunds_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('external_refund_id', name=op.f('uq_refunds_external_refund_id'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_order_id'), ['order_id'], unique=False)

    op.create_table('points_lots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('remaining', sa.BigInteger(), nullable=False),
    sa.Column('earned_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.Column('expires_at', persistence.tables.UtcDateTime(), nullable=False),
    sa.CheckConstraint('points > 0', name=op.f('ck_points_lots_points_positive')),
    sa.CheckConstraint('remaining >= 0 AND remaining <= points', name=op.f('ck_points_lots_remaining_within_points')),
    sa.ForeignKeyConstraint(['entry_id'], ['point_entries.id'], name=op.f('fk_points_lots_entry_id_point_entries')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_points_lots_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_lots'))
    )
    with op.batch_alter_table('points_lots', schema=None) as batch_op:
        batch_op.create_index('ix_points_lots_member_id_expires_at', ['member_id', 'expires_at'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('points_lots', schema=None) as batch_op:
        batch_op.drop_index('ix_points_lots_member_id_expires_at')

    op.drop_table('points_lots')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_order_id'))

    op.drop_table('refunds')
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_index('ix_redemptions_member_id_id')

    op.drop_table('redemptions')
    with op.batch_alter_table('point_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_point_entries_member_id_id')

    op.drop_table('point_entries')
    with op.batch_alter_table('growth_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_growth_entries_member_id_id')

    op.drop_table('growth_entries')
    op.drop_table('tier_gifts')
    op.drop_table('profile_tasks')
    op.drop_table('points_offsets')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_member_id_id')

    op.drop_table('orders')
    op.drop_table('monthly_coupon_claims')
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.drop_index('ix_coupons_member_id_id')

    op.drop_table('coupons')
    op.drop_table('check_ins')
    op.drop_table('rewards')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_unionid'))

    op.drop_table('members')
    op.drop_table('benefits')
    op.drop_table('tiers')
    op.drop_table('coupon_templates')
    op.drop_table('api_keys')
