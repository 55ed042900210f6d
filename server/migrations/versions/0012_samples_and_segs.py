"""health files: laboratory personal samples and similar exposure groups (EN 689); a hazard may name the
catalogue variant of its limit (the free-SiO2 class of a silica dust)

Revision ID: 0012
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "health_personal_samples",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sample_id", sa.String(length=64), nullable=False, unique=True),
        sa.Column("worker_id", sa.Integer(), sa.ForeignKey("health_workers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("substance", sa.String(length=64), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_ms", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("loq", sa.Float(), nullable=True),
        sa.Column("below_loq", sa.Boolean(), nullable=False),
        sa.Column("laboratory", sa.String(length=128), nullable=False),
        sa.Column("method", sa.String(length=128), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_health_samples_worker", "health_personal_samples", ["worker_id", "substance", "start_ms"])
    op.create_table(
        "health_segs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=128), nullable=False, unique=True),
        sa.Column("site", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("hazards_json", sa.Text(), nullable=False),
        sa.Column("zones_json", sa.Text(), nullable=False),
        sa.Column("posts_json", sa.Text(), nullable=False),
        sa.Column("jobs_json", sa.Text(), nullable=False),
        sa.Column("workers_json", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
    )
    with op.batch_alter_table("health_hazards") as batch:
        batch.add_column(sa.Column("variant", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("health_hazards") as batch:
        batch.drop_column("variant")
    op.drop_table("health_segs")
    op.drop_index("ix_health_samples_worker", table_name="health_personal_samples")
    op.drop_table("health_personal_samples")
