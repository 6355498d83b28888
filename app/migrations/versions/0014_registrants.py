"""registrants: the event's registration list, with each person's own QR code

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 10:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registered_position', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('role', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('badge', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('badge_claimed_at', sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_participant_badge'), ['badge'])


def downgrade():
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_participant_badge'), type_='unique')
        batch_op.drop_column('badge_claimed_at')
        batch_op.drop_column('badge')
        batch_op.drop_column('role')
        batch_op.drop_column('email')
        batch_op.drop_column('registered_position')
