"""who merged a post and when

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 02:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('merged_by_table_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('merged_by_organiser_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_post_merged_by_table_id_session_table'), 'session_table',
                                    ['merged_by_table_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_post_merged_by_organiser_id_organiser'), 'organiser',
                                    ['merged_by_organiser_id'], ['id'], ondelete='SET NULL')
    # Merges made before this revision were a host's: who is unknown, when is about the post's own time.
    op.execute("UPDATE post SET merged_at = created_at WHERE merged_into_id IS NOT NULL")


def downgrade():
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_post_merged_by_organiser_id_organiser'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_post_merged_by_table_id_session_table'), type_='foreignkey')
        batch_op.drop_column('merged_by_organiser_id')
        batch_op.drop_column('merged_by_table_id')
        batch_op.drop_column('merged_at')
