"""Where a participant is seated: the table they say or were found to be at, and in which step

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 02:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('table_key', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('seated_phase', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_column('seated_phase')
        batch_op.drop_column('table_key')
