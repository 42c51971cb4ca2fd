"""Signed events in the JCS form: every event carries the engine's signature (and the proving person's); each
existing chain is re-anchored by a `log.reanchored` event, signed, that vouches for its events in the legacy form.

Revision ID: 0003
Revises: 0002
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# the event table as this revision leaves it: typed, so that times are read and written as the models do
_event = sa.table(
    "event",
    sa.column("campaign_id", sa.String),
    sa.column("seq", sa.Integer),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("type", sa.String),
    sa.column("payload", sa.Text),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
    sa.column("engine_key", sa.String),
    sa.column("engine_signature", sa.String),
    sa.column("person_signature", sa.Text),
)


def upgrade() -> None:
    """Add the signature columns, then close every chain's legacy part with a signed re-anchoring event."""
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("engine_key", sa.String(length=60), nullable=False, server_default=""))
        batch.add_column(sa.Column("engine_signature", sa.String(length=100), nullable=False, server_default=""))
        batch.add_column(sa.Column("person_signature", sa.Text(), nullable=False, server_default=""))
    reanchor(op.get_bind(), datetime.now(UTC))


def reanchor(connection: sa.Connection, now: datetime) -> int:
    """Append a `log.reanchored` event, sealed by the engine key, to every chain; returns how many chains."""
    from musharaka.state.events import LogReanchored, as_utc, canonical, event_hash
    from musharaka.state.seal import current_engine_key, sign_hash
    from musharaka.state.settings import get_settings
    from musharaka.state.signing import public_text

    newest = connection.execute(
        sa.select(_event.c.campaign_id, sa.func.max(_event.c.seq)).group_by(_event.c.campaign_id)
    ).all()
    heads = [
        connection.execute(
            sa.select(_event.c.campaign_id, _event.c.seq, _event.c.at, _event.c.hash).where(
                _event.c.campaign_id == campaign, _event.c.seq == seq
            )
        ).one()
        for campaign, seq in newest
    ]
    if not heads:
        return 0
    key = current_engine_key(get_settings().engine_key_file)  # only a log to re-anchor needs the key
    public = public_text(key.public_key())
    for campaign, seq, at, legacy_head in heads:
        moment = max(as_utc(now), as_utc(at))  # the log stays in time order
        body = canonical(LogReanchored(legacy_events=seq, legacy_head=legacy_head).model_dump(mode="json"))
        own = event_hash(campaign, seq + 1, moment, "engine", LogReanchored.TYPE, body, legacy_head)
        connection.execute(
            _event.insert().values(
                campaign_id=campaign,
                seq=seq + 1,
                at=moment,
                actor="engine",
                type=LogReanchored.TYPE,
                payload=body,
                prev_hash=legacy_head,
                hash=own,
                engine_key=public,
                engine_signature=sign_hash(key, own),
                person_signature="",
            )
        )
        connection.execute(
            sa.text("UPDATE campaign_state SET last_seq = :seq, last_hash = :hash WHERE campaign_id = :campaign"),
            {"seq": seq + 1, "hash": own, "campaign": campaign},
        )
    return len(heads)


def downgrade() -> None:
    """Back to unsigned events: only while no event was written in the new form but the re-anchoring ones."""
    connection = op.get_bind()
    written = connection.execute(
        sa.text("SELECT count(*) FROM event WHERE engine_signature != '' AND type != 'log.reanchored'")
    ).scalar()
    if written:
        raise RuntimeError(
            f"{written} events were written signed, in the JCS form, since the upgrade; the previous version cannot "
            "verify them: restore the backup taken before `musharaka db upgrade`"
        )
    for campaign, seq, prev in connection.execute(
        sa.text("SELECT campaign_id, seq, prev_hash FROM event WHERE type = 'log.reanchored'")
    ).all():
        connection.execute(
            sa.text("UPDATE campaign_state SET last_seq = :seq, last_hash = :hash WHERE campaign_id = :campaign"),
            {"seq": seq - 1, "hash": prev, "campaign": campaign},
        )
    connection.execute(sa.text("DELETE FROM event WHERE type = 'log.reanchored'"))
    with op.batch_alter_table("event") as batch:
        batch.drop_column("person_signature")
        batch.drop_column("engine_signature")
        batch.drop_column("engine_key")
