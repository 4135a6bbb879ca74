"""revisions and run history: articles.fetched_at/content_hash, article_revisions, runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("fetched_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("content_hash", sa.String(64), nullable=True))
    _fill_existing_rows()
    with op.batch_alter_table("articles") as batch:
        batch.alter_column("fetched_at", existing_type=sa.DateTime(), nullable=False)
        batch.alter_column("content_hash", existing_type=sa.String(64), nullable=False)

    op.create_table(
        "article_revisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "info_code",
            sa.String(40),
            sa.ForeignKey("articles.info_code", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("replaced_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.UniqueConstraint("info_code", "content_hash", "fetched_at", name="uq_article_revisions_version"),
    )
    op.create_index("ix_article_revisions_info_code", "article_revisions", ["info_code"])

    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("job", sa.String(512), nullable=False),
        sa.Column("spider", sa.String(64), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("finish_reason", sa.String(64), nullable=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
    )
    op.create_index("ix_runs_job", "runs", ["job"])
    op.create_index("ix_runs_started_at", "runs", ["started_at"])


def _fill_existing_rows() -> None:
    """The current version of a stored row was fetched when it was first seen (only last_seen_at
    ever moved before this revision); its hash is computed the way newsarchive.db.models does."""
    connection = op.get_bind()
    articles = sa.table(
        "articles",
        sa.column("id", sa.Integer()),
        sa.column("title", sa.Text()),
        sa.column("body_html", sa.Text()),
        sa.column("first_seen_at", sa.DateTime()),
        sa.column("fetched_at", sa.DateTime()),
        sa.column("content_hash", sa.String(64)),
    )
    connection.execute(articles.update().values(fetched_at=articles.c.first_seen_at))
    last_id = 0
    while True:
        batch = connection.execute(
            sa.select(articles.c.id, articles.c.title, articles.c.body_html)
            .where(articles.c.id > last_id)
            .order_by(articles.c.id)
            .limit(_BATCH)
        ).all()
        if not batch:
            return
        for row_id, title, body_html in batch:
            digest = hashlib.sha256(f"{title}\x00{body_html}".encode()).hexdigest()
            connection.execute(articles.update().where(articles.c.id == row_id).values(content_hash=digest))
        last_id = batch[-1][0]


def downgrade() -> None:
    op.drop_index("ix_runs_started_at", table_name="runs")
    op.drop_index("ix_runs_job", table_name="runs")
    op.drop_table("runs")
    op.drop_index("ix_article_revisions_info_code", table_name="article_revisions")
    op.drop_table("article_revisions")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("content_hash")
        batch.drop_column("fetched_at")
