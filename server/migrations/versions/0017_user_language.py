"""a user's language: the pages, messages and PDFs they see (users.language; none = the site's, HAZMON_LANGUAGE)

Revision ID: 0017_user_language
Revises: 0016_hazard_ppe
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_user_language"
down_revision: str | tuple[str, ...] | None = "0016_hazard_ppe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
