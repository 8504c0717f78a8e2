"""Sessions are named in access tokens by a random token id, not by their sequential id.

Existing sessions get one each; access tokens issued before this revision stop working (they last
minutes), and their refresh tokens keep working.

Revision ID: 0005
Revises: 0004
"""
import secrets
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("token_id", sa.String(length=32), nullable=True))
    conn = op.get_bind()
    sessions = sa.table("sessions", sa.column("id"), sa.column("token_id"))
    while True:
        ids = [row.id for row in conn.execute(sa.select(sessions.c.id).where(sessions.c.token_id.is_(None))
                                              .limit(BATCH))]
        if not ids:
            break
        conn.execute(sessions.update().where(sessions.c.id == sa.bindparam("session_id"))
                     .values(token_id=sa.bindparam("new_token_id")),
                     [{"session_id": i, "new_token_id": secrets.token_urlsafe(16)} for i in ids])
    with op.batch_alter_table("sessions") as batch:
        batch.alter_column("token_id", existing_type=sa.String(length=32), nullable=False)
        batch.create_unique_constraint(op.f("uq_sessions_token_id"), ["token_id"])


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_constraint(op.f("uq_sessions_token_id"), type_="unique")
        batch.drop_column("token_id")
