"""booklets: organiser texts, photos, publication and naming choices

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 05:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('show_names', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('participant_photos', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'booklet_text',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('section', sa.String(length=80), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_booklet_text_event_id_event'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['organiser.id'], name=op.f('fk_booklet_text_updated_by_id_organiser'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_booklet_text')),
        sa.UniqueConstraint('event_id', 'section', name=op.f('uq_booklet_text_event_id_section')),
    )
    op.create_table(
        'photo',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('participant_id', sa.Integer(), nullable=True),
        sa.Column('organiser_id', sa.Integer(), nullable=True),
        sa.Column('filename', sa.String(length=80), nullable=False),
        sa.Column('caption', sa.String(length=300), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('section', sa.String(length=80), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_photo_event_id_event'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_photo_participant_id_participant'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_photo_organiser_id_organiser'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_photo')),
        sa.UniqueConstraint('filename', name=op.f('uq_photo_filename')),
    )
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_event_id'), ['event_id'], unique=False)


def downgrade():
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_event_id'))
    op.drop_table('photo')
    op.drop_table('booklet_text')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('participant_photos')
        batch_op.drop_column('show_names')
        batch_op.drop_column('published_at')
