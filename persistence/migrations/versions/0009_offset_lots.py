"""offset_lots: which lots a points offset took its points from (lot and amount), so that a refund gives
the points back in the year they were earned and the annual clearing counts them there.

Revision ID: 0009
Revises: 0008
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: Union[str, Sequence[str], None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "offset_lots",
        sa.Column("offset_id", Id, nullable=False),
        sa.Column("lot_id", Id, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_offset_lots_amount_positive")),
        sa.ForeignKeyConstraint(["offset_id"], ["points_offsets.id"],
                                name=op.f("fk_offset_lots_offset_id_points_offsets")),
        sa.ForeignKeyConstraint(["lot_id"], ["points_lots.id"], name=op.f("fk_offset_lots_lot_id_points_lots")),
        sa.PrimaryKeyConstraint("offset_id", "lot_id", name=op.f("pk_offset_lots")),
    )


def downgrade() -> None:
    op.drop_table("offset_lots")
