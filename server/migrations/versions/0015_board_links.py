"""board links: read-only kiosk links to a zone's notice board, stored hashed; joins the samples branch (0012)
and the security branch (0014)

Revision ID: 0015_board_links
Revises: 0012, 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_board_links"
down_revision: str | tuple[str, ...] | None = ("0012", "0014")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "board_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("revoked_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["zone_id"], ["health_zones.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_board_links_zone_id"), "board_links", ["zone_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_board_links_zone_id"), table_name="board_links")
    op.drop_table("board_links")
