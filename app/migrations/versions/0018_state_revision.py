"""state revision: every change of a session's state numbered, so that clients drop stale broadcasts; an index
on the ideas merged into another

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_rev', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.create_index('ix_post_merged_into', ['merged_into_id'], unique=False)


def downgrade():
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_index('ix_post_merged_into')
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.drop_column('state_rev')
