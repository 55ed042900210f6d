"""latest.valid_ts: when each sensor quantity last gave a valid reading (watchdog.sensor_silent watches it)

Revision ID: 0011
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("latest") as batch:
        batch.add_column(sa.Column("valid_ts", sa.BigInteger(), nullable=True))
    op.execute("UPDATE latest SET valid_ts = ts")  # before: every newest reading counted; no alert on upgrade


def downgrade() -> None:
    with op.batch_alter_table("latest") as batch:
        batch.drop_column("valid_ts")
