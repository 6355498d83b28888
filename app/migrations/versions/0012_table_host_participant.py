"""table host participant

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 02:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('session_table', schema=None) as batch_op:
        batch_op.add_column(sa.Column('host_participant_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_session_table_host_participant_id_participant'), 'participant',
                                    ['host_participant_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('session_table', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_session_table_host_participant_id_participant'), type_='foreignkey')
        batch_op.drop_column('host_participant_id')
