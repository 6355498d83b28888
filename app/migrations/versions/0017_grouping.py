"""grouping: people's decisions on pairs of ideas, sentence vectors per idea, organisers' group titles

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 23:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('group_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('same', sa.Boolean(), nullable=False),
    sa.Column('table_id', sa.Integer(), nullable=True),
    sa.Column('organiser_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_group_decision_organiser_id_organiser'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['other_id'], ['post.id'], name=op.f('fk_group_decision_other_id_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_group_decision_post_id_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['session.id'], name=op.f('fk_group_decision_session_id_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['table_id'], ['session_table.id'], name=op.f('fk_group_decision_table_id_session_table'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_decision')),
    sa.UniqueConstraint('session_id', 'post_id', 'other_id', name=op.f('uq_group_decision_session_id_post_id_other_id'))
    )
    op.create_table('idea_vector',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_idea_vector_post_id_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'model', name=op.f('pk_idea_vector'))
    )
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_title', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_column('group_title')
    op.drop_table('idea_vector')
    op.drop_table('group_decision')
