"""security: an agent token may expire (agent_tokens, from 0013, gains expires_ms); joins the agent-enrolment
branch (0013) and the series branch (0011)

Revision ID: 0014
Revises: 0011, 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | tuple[str, ...] | None = ("0011", "0013")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_tokens") as batch:
        batch.add_column(sa.Column("expires_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agent_tokens") as batch:
        batch.drop_column("expires_ms")
