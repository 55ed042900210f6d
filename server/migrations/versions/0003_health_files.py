"""health files: workers, zones, posts, hazards, rosters, personal sensors, shift runs, exposure records, exams

Revision ID: 0003
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("health",)
depends_on: str | Sequence[str] | None = None

_TABLES = (  # dropped in this order (children first)
    "health_exam_attachments",
    "health_zone_sensors",
    "health_shift_runs",
    "health_personal_sensors",
    "health_hazards",
    "health_exposure_records",
    "health_exams",
    "health_assignments",
    "health_workers",
    "health_posts",
    "health_zones",
    "health_shift_patterns",
    "health_file_deletions",
)


def upgrade() -> None:
    op.create_table(
        "health_file_deletions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_ref", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("counts_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "health_shift_patterns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("start", sa.String(length=5), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "health_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "health_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["zone_id"], ["health_zones.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("zone_id", "code"),
    )
    op.create_table(
        "health_workers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_no", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("job", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hire_date", sa.Date(), nullable=True),
        sa.Column("leave_date", sa.Date(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("shift_pattern_id", sa.Integer(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shift_pattern_id"],
            ["health_shift_patterns.id"],
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("employee_no"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_table(
        "health_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_ms", sa.BigInteger(), nullable=False),
        sa.Column("shift_start_ms", sa.BigInteger(), nullable=False),
        sa.Column("shift_end_ms", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["health_posts.id"],
        ),
        sa.ForeignKeyConstraint(["worker_id"], ["health_workers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["health_zones.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_health_assignments_worker_shift", "health_assignments", ["worker_id", "shift_start_ms"], unique=False
    )
    op.create_index("ix_health_assignments_zone_time", "health_assignments", ["zone_id", "start_ms"], unique=False)
    op.create_table(
        "health_exams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("exam_type", sa.String(length=16), nullable=False),
        sa.Column("hazard", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("exam_date", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=256), nullable=False),
        sa.Column("trigger_record_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("examiner", sa.String(length=128), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["worker_id"], ["health_workers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "health_exposure_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("shift_start_ms", sa.BigInteger(), nullable=False),
        sa.Column("shift_end_ms", sa.BigInteger(), nullable=False),
        sa.Column("substance", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("computed_ms", sa.BigInteger(), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("profile", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("presence_s", sa.Float(), nullable=False),
        sa.Column("twa", sa.Float(), nullable=True),
        sa.Column("lex_8h", sa.Float(), nullable=True),
        sa.Column("dose_percent", sa.Float(), nullable=True),
        sa.Column("dose_criterion", sa.String(length=16), nullable=True),
        sa.Column("stel_max", sa.Float(), nullable=True),
        sa.Column("stel_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("peak", sa.Float(), nullable=True),
        sa.Column("peak_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("ratio", sa.Float(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("exposure_class", sa.String(length=16), nullable=True),
        sa.Column("limit_value", sa.Float(), nullable=True),
        sa.Column("limit_unit", sa.String(length=16), nullable=True),
        sa.Column("limit_kind", sa.String(length=16), nullable=True),
        sa.Column("limit_source", sa.String(length=256), nullable=True),
        sa.Column("stel_limit_value", sa.Float(), nullable=True),
        sa.Column("stel_limit_source", sa.String(length=256), nullable=True),
        sa.Column("coverage", sa.Float(), nullable=False),
        sa.Column("gaps_json", sa.Text(), nullable=False),
        sa.Column("sensors_json", sa.Text(), nullable=False),
        sa.Column("flagged_excluded", sa.Integer(), nullable=False),
        sa.Column("details_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["worker_id"], ["health_workers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("worker_id", "shift_start_ms", "substance", "version"),
    )
    op.create_index(
        "ix_health_exposure_worker_current",
        "health_exposure_records",
        ["worker_id", "superseded", "shift_start_ms"],
        unique=False,
    )
    op.create_table(
        "health_hazards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("substance", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["health_posts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["zone_id"], ["health_zones.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "health_personal_sensors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sensor_id"],
            ["sensors.id"],
        ),
        sa.ForeignKeyConstraint(["worker_id"], ["health_workers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "health_shift_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("shift_start_ms", sa.BigInteger(), nullable=False),
        sa.Column("shift_end_ms", sa.BigInteger(), nullable=False),
        sa.Column("computed_ms", sa.BigInteger(), nullable=True),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("stale_since_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["worker_id"], ["health_workers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("worker_id", "shift_start_ms", "shift_end_ms"),
    )
    op.create_table(
        "health_zone_sensors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sensor_id"],
            ["sensors.id"],
        ),
        sa.ForeignKeyConstraint(["zone_id"], ["health_zones.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "health_exam_attachments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("exam_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["exam_id"], ["health_exams.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    for name in _TABLES:
        op.drop_table(name)
