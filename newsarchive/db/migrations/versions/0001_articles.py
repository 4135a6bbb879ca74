"""articles table

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from newsarchive.db.models import AwareDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("info_code", sa.String(40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("published_at", AwareDateTime(), nullable=False),
        sa.Column("published_raw", sa.String(64)),
        sa.Column("media", sa.String(128)),
        sa.Column("category", sa.String(128)),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text()),
        sa.Column("author", sa.String(256)),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("feed", sa.String(64), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("first_seen_at", AwareDateTime(), nullable=False),
        sa.Column("last_seen_at", AwareDateTime(), nullable=False),
        sa.UniqueConstraint("info_code", name="uq_articles_info_code"),
    )
    op.create_index("ix_articles_published_at", "articles", ["published_at"])
    op.create_index("ix_articles_category", "articles", ["category"])


def downgrade() -> None:
    op.drop_index("ix_articles_category", table_name="articles")
    op.drop_index("ix_articles_published_at", table_name="articles")
    op.drop_table("articles")
