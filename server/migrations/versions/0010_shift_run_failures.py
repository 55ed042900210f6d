"""health files: a worker-shift whose computation failed keeps the reason (and when), so it is shown, not lost

Revision ID: 0010
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("health_shift_runs") as batch:
        batch.add_column(sa.Column("failed_ms", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("error", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("health_shift_runs") as batch:
        batch.drop_column("error")
        batch.drop_column("failed_ms")
