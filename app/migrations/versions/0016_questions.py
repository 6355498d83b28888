"""questions: upvotes once per person, answered and held posts, anonymous posts, a review queue per session

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('upvote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_upvote_participant_id_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_upvote_post_id_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['session.id'], name=op.f('fk_upvote_session_id_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_upvote')),
    sa.UniqueConstraint('post_id', 'participant_id', name=op.f('uq_upvote_post_id_participant_id'))
    )
    with op.batch_alter_table('upvote', schema=None) as batch_op:
        batch_op.create_index('ix_upvote_session', ['session_id'], unique=False)
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('anonymous', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('answered', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('upvotes', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.drop_column('review')
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_column('upvotes')
        batch_op.drop_column('answered')
        batch_op.drop_column('anonymous')
        batch_op.drop_column('held')
    with op.batch_alter_table('upvote', schema=None) as batch_op:
        batch_op.drop_index('ix_upvote_session')
    op.drop_table('upvote')
