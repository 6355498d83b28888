"""posting opening and closing time

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 02:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('closed_at', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
        batch_op.drop_column('opening')
