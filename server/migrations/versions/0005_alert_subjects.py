"""alert subjects: workers as alert subjects, the alert's detail, and the evaluator state per (rule, worker)

An alert of a worker rule names the worker (`worker_id`, `worker` = employee number); its episode is one per
(rule, worker), whichever personal sensor the readings came from, so the open-episode unique index on
(rule, sensor) now covers sensor/zone alerts only and a second one covers (rule, worker).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "state != 'resolved'"


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as b:
        b.add_column(sa.Column("worker_id", sa.Integer(), nullable=True))
        b.add_column(sa.Column("worker", sa.String(64), nullable=True))
        b.add_column(sa.Column("detail", sa.Text(), nullable=True))
    op.drop_index("uq_alerts_open_episode", table_name="alerts")
    where = sa.text(f"{_OPEN} AND worker_id IS NULL")
    op.create_index("uq_alerts_open_episode", "alerts", ["rule_id", "sensor_id"], unique=True,
                    sqlite_where=where, postgresql_where=where)
    where_w = sa.text(f"{_OPEN} AND worker_id IS NOT NULL")
    op.create_index("uq_alerts_open_worker_episode", "alerts", ["rule_id", "worker_id"], unique=True,
                    sqlite_where=where_w, postgresql_where=where_w)
    op.create_table(
        "alert_worker_state",
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", "worker_id"),
    )


def downgrade() -> None:
    op.drop_table("alert_worker_state")
    op.drop_index("uq_alerts_open_worker_episode", table_name="alerts")
    op.drop_index("uq_alerts_open_episode", table_name="alerts")
    # open worker episodes could collide on (rule, sensor): close them, saying why, rather than delete history
    op.execute("UPDATE alerts SET state = 'resolved', resolved_by = 'system', "
               "resolve_reason = 'schema downgraded below 0005' WHERE worker_id IS NOT NULL AND " + _OPEN)
    where = sa.text(_OPEN)
    op.create_index("uq_alerts_open_episode", "alerts", ["rule_id", "sensor_id"], unique=True,
                    sqlite_where=where, postgresql_where=where)
    with op.batch_alter_table("alerts", schema=None) as b:
        b.drop_column("detail")
        b.drop_column("worker")
        b.drop_column("worker_id")
