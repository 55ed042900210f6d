"""watchdog alerts: an alert may be about an agent (agent_offline, agent_outbox) instead of a sensor; the latest
value of each (sensor, quantity) keeps the interval between the sensor's readings (sensor_silent)

Revision ID: 0008
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "state != 'resolved'"


def _indexes(*, agent: bool) -> None:
    where = sa.text(f"{_OPEN} AND worker_id IS NULL")
    op.create_index("uq_alerts_open_episode", "alerts", ["rule_id", "sensor_id"], unique=True,
                    sqlite_where=where, postgresql_where=where)
    where_w = sa.text(f"{_OPEN} AND worker_id IS NOT NULL")
    op.create_index("uq_alerts_open_worker_episode", "alerts", ["rule_id", "worker_id"], unique=True,
                    sqlite_where=where_w, postgresql_where=where_w)
    op.create_index("ix_alerts_state_opened", "alerts", ["state", "opened_ts"])
    if agent:
        where_a = sa.text(f"{_OPEN} AND agent_id IS NOT NULL")
        op.create_index("uq_alerts_open_agent_episode", "alerts", ["rule_id", "agent_id"], unique=True,
                        sqlite_where=where_a, postgresql_where=where_a)


def _drop_indexes(*, agent: bool) -> None:
    # SQLite rebuilds the table to change a column: its partial indexes are dropped first and made again after,
    # so none comes back without its WHERE clause
    names = ["uq_alerts_open_episode", "uq_alerts_open_worker_episode", "ix_alerts_state_opened"]
    for name in (*names, "uq_alerts_open_agent_episode") if agent else names:
        op.drop_index(name, table_name="alerts")


def upgrade() -> None:
    _drop_indexes(agent=False)
    with op.batch_alter_table("alerts", schema=None) as b:
        b.alter_column("sensor_id", existing_type=sa.Integer(), nullable=True)
        b.add_column(sa.Column("agent_id", sa.Integer(), nullable=True))
    _indexes(agent=True)
    with op.batch_alter_table("latest", schema=None) as b:
        b.add_column(sa.Column("interval_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("latest", schema=None) as b:
        b.drop_column("interval_ms")
    op.execute("DELETE FROM alerts WHERE sensor_id IS NULL")
    _drop_indexes(agent=True)
    with op.batch_alter_table("alerts", schema=None) as b:
        b.drop_column("agent_id")
        b.alter_column("sensor_id", existing_type=sa.Integer(), nullable=False)
    _indexes(agent=False)
