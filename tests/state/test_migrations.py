"""The migrations build exactly the tables the models describe, on SQLite and on PostgreSQL; the engine
upgrades an empty database by itself and refuses one at another revision until `musharaka db upgrade`."""

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

import musharaka.state.tables  # noqa: F401  (the models under comparison)
from musharaka.state import migrate
from musharaka.state.audit import verify_database
from musharaka.state.events import GENESIS, legacy_canonical, legacy_event_hash
from musharaka.state.seal import engine_fingerprint
from musharaka.state.signing import load_private, public_text
from tests.conftest import Workspace, drop_postgres_database, fresh_postgres_database
from tests.flows.samples import CAMPAIGN


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty SQLite file, or a fresh PostgreSQL database on the suite's server (skipped without one)."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    url = fresh_postgres_database()
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_postgres_database(url)


def test_the_migrations_create_exactly_the_tables_the_models_describe(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    # A change to state/tables.py without a migration in state/migrations/versions shows up here.
    assert differences == []
    assert migrate.revision(empty_engine).up_to_date


def test_a_column_the_migrations_lack_is_reported_as_a_difference(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(text("ALTER TABLE gate DROP COLUMN decided_at"))
    with empty_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert [(d[0], d[2], d[3].name) for d in differences] == [("add_column", "gate", "decided_at")]


def test_an_upgrade_keeps_every_contribution_counting_and_lets_a_withdrawn_key_be_taken_again(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, migrate.FIRST_REVISION)
    row = (
        "INSERT INTO contribution (campaign_id, batch, row_key, submitted_at, channel, audience, answers, "
        "participant, segments, source, digest) VALUES ('c', :batch, 'kobo:1', '2025-07-08 06:15:30', 'e-survey', "
        "'students', '{}', '', '{}', 'kobo', '')"
    )
    held = (
        "INSERT INTO quarantined_row (campaign_id, batch, row_key, row, reasons, cells) "
        "VALUES ('c', :batch, 'kobo:2', 3, 'r', '{}')"
    )
    with empty_engine.begin() as connection:
        connection.execute(text(row), {"batch": "5"})
        connection.execute(text(held), {"batch": "5"})
    migrate.upgrade(empty_engine)
    with empty_engine.begin() as connection:
        assert connection.execute(text("SELECT withdrawn FROM contribution")).scalars().all() == [0]
        assert connection.execute(text("SELECT withdrawn FROM quarantined_row")).scalars().all() == [0]
        connection.execute(text("UPDATE contribution SET withdrawn = 6"))  # batch 5 withdrawn by event 6
        connection.execute(text(row), {"batch": "7"})  # the corrected file's row, same key, counts
        connection.execute(text(held), {"batch": "7"})  # kept aside again, by another file
    with pytest.raises(IntegrityError), empty_engine.begin() as connection:
        connection.execute(text(row), {"batch": "8"})  # but one row a key counts


def test_the_revision_every_command_checks_against_is_the_newest_migration() -> None:
    # a new migration without HEAD raised would let every command run on the old schema unchecked
    assert migrate.head() == migrate.HEAD


def test_a_database_at_another_revision_is_refused_with_the_upgrade_hint(ws: Workspace) -> None:
    assert ws.run("start", CAMPAIGN, "--no-advance", now="2025-06-15T09:00+04:00").exit_code == 0
    engine = create_engine(ws.db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    engine.dispose()
    # a command of its own: the check runs once per process
    refused = subprocess.run([sys.executable, "-m", "musharaka.flows.cli", "status"], capture_output=True, text=True)
    assert refused.returncode == 1
    assert "at schema revision 0000" in refused.stderr and "musharaka db upgrade" in refused.stderr


@pytest.mark.empty_database
def test_an_empty_database_is_brought_to_the_latest_revision_on_first_use(ws: Workspace) -> None:
    assert ws.run("start", CAMPAIGN, "--no-advance", now="2025-06-15T09:00+04:00").exit_code == 0
    result = ws.run("db", "check", "--json")
    assert result.exit_code == 0
    assert json.loads(result.output) == {"current": migrate.head(), "head": migrate.head(), "up_to_date": True}


@pytest.mark.empty_database
def test_a_database_from_before_migrations_is_refused_until_db_upgrade_adopts_it(ws: Workspace) -> None:
    engine = create_engine(ws.db_url)
    # the tables the first release made with create_all, before the schema had revisions: its revision's
    migrate.upgrade(engine, migrate.FIRST_REVISION)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    engine.dispose()

    refused = ws.run("status")
    assert refused.exit_code == 1
    assert "schema revision none" in refused.output
    assert "musharaka db upgrade" in refused.output
    check = ws.run("db", "check")
    assert check.exit_code == 1
    assert "needs upgrade" in check.output

    upgraded = ws.run("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f"upgraded: revision none -> {migrate.head()}" in upgraded.output
    assert ws.run("db", "upgrade").output.strip() == f"up to date: revision {migrate.head()}"
    assert ws.run("start", CAMPAIGN, "--no-advance", now="2025-06-15T09:00+04:00").exit_code == 0


def legacy_copy(ws: Workspace, target: Engine, *, unsigned_registry: bool = False) -> None:
    """The workspace's log as the engine wrote it before JCS: payloads in Python's JSON, legacy hashes, unsigned;
    written into `target`, a database at revision 0002 (`unsigned_registry`: its registry versions recorded as
    they were before versions were signed)."""
    source = create_engine(ws.db_url)
    with source.connect() as connection:
        events = connection.execute(
            text("SELECT campaign_id, seq, at, actor, type, payload FROM event ORDER BY campaign_id, seq")
        ).all()
    source.dispose()
    migrate.upgrade(target, "0002")
    prev: dict[str, str] = {}
    with target.begin() as connection:
        for campaign, seq, at, actor, kind, payload in events:
            content = json.loads(payload)
            if unsigned_registry and kind == "registry.recorded":
                content = {k: v for k, v in content.items() if k not in ("signatures", "source")}
            body = legacy_canonical(content)
            moment = at if isinstance(at, datetime) else datetime.fromisoformat(at)
            own = legacy_event_hash(campaign, seq, moment, actor, kind, body, prev.get(campaign, GENESIS))
            connection.execute(
                text(
                    "INSERT INTO event (campaign_id, seq, at, actor, type, payload, prev_hash, hash) "
                    "VALUES (:c, :s, :at, :a, :t, :p, :prev, :h)"
                ),
                {
                    "c": campaign,
                    "s": seq,
                    "at": at,
                    "a": actor,
                    "t": kind,
                    "p": body,
                    "prev": prev.get(campaign, GENESIS),
                    "h": own,
                },
            )
            prev[campaign] = own


@pytest.mark.prefect
def test_an_upgrade_re_anchors_a_legacy_log_which_then_verifies_and_still_names_tampering(
    ws: Workspace, tmp_path: Path
) -> None:
    assert ws.run("start", CAMPAIGN, now="2025-06-15T09:00+04:00").exit_code == 0
    assert ws.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-16T09:00+04:00").exit_code == 0
    legacy = create_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    legacy_copy(ws, legacy)
    with legacy.connect() as connection:
        before = dict(connection.execute(text("SELECT campaign_id, max(seq) FROM event GROUP BY campaign_id")).all())
    migrate.upgrade(legacy)
    trusted = engine_fingerprint(public_text(load_private(ws.root / "engine-key.pem", None).public_key()))
    with Session(legacy) as session:
        findings, _, _ = verify_database(session, engine=trusted)
        assert findings == []
        anchors = session.execute(
            text("SELECT campaign_id, seq, payload FROM event WHERE type = 'log.reanchored'")
        ).all()
    # one signed re-anchoring per chain, right after its legacy events, naming how many there were
    assert {c: (s, json.loads(p)["legacy_events"]) for c, s, p in anchors} == {c: (n + 1, n) for c, n in before.items()}

    with legacy.begin() as connection:  # a legacy event edited: its legacy hash names it
        connection.execute(
            text("UPDATE event SET actor = 'dir.digital' WHERE campaign_id = :c AND seq = 2"), {"c": CAMPAIGN}
        )
    with Session(legacy) as session:
        findings, _, _ = verify_database(session, engine=trusted)
    assert [str(f) for f in findings] == [
        f"{CAMPAIGN} event 2: its payload, actor, time or type does not match its hash"
    ]
    legacy.dispose()


def test_an_unsigned_event_after_the_re_anchoring_is_named(ws: Workspace, tmp_path: Path) -> None:
    assert ws.run("start", CAMPAIGN, "--no-advance", now="2025-06-15T09:00+04:00").exit_code == 0
    legacy = create_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    legacy_copy(ws, legacy)
    migrate.upgrade(legacy)
    with legacy.begin() as connection:
        seq, prev = connection.execute(
            text("SELECT seq, hash FROM event WHERE campaign_id = :c ORDER BY seq DESC LIMIT 1"), {"c": CAMPAIGN}
        ).one()
        at = datetime(2025, 7, 1, tzinfo=UTC)
        body = '{"evidence":null,"note":"","percent":100,"status":"implemented"}'
        forged = legacy_event_hash(CAMPAIGN, seq + 1, at, "engine", "decision.updated", body, prev)
        connection.execute(
            text(
                "INSERT INTO event (campaign_id, seq, at, actor, type, payload, prev_hash, hash) "
                "VALUES (:c, :s, :at, 'engine', 'decision.updated', :p, :prev, :h)"
            ),
            {"c": CAMPAIGN, "s": seq + 1, "at": at, "p": body, "prev": prev, "h": forged},
        )
    trusted = engine_fingerprint(public_text(load_private(ws.root / "engine-key.pem", None).public_key()))
    with Session(legacy) as session:
        findings, _, _ = verify_database(session, engine=trusted)
    assert [str(f) for f in findings] == [
        f"{CAMPAIGN} event {seq + 1}: its payload, actor, time or type does not match its hash"
    ]
    legacy.dispose()


def test_registry_versions_recorded_before_versions_were_signed_are_vouched_for_by_the_re_anchoring(
    ws: Workspace, tmp_path: Path
) -> None:
    from tests.flows.test_gates import edit_registry

    assert ws.run("start", CAMPAIGN, "--no-advance", now="2025-06-15T09:00+04:00").exit_code == 0
    # a second version of the registry (the Director General's name), recorded when the next campaign starts
    edit_registry(ws, lambda registry: registry["approvers"][0]["name"].update(en="Dr Yaqoob bin Said Al Raisi"))
    other = ws.run("start", "moheri-2025-q3-video-call", "--no-advance", now="2025-06-15T10:00+04:00")
    assert other.exit_code == 0, other.stderr
    legacy = create_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    legacy_copy(ws, legacy, unsigned_registry=True)  # an upgraded log whose second version nobody signed
    migrate.upgrade(legacy)
    trusted = engine_fingerprint(public_text(load_private(ws.root / "engine-key.pem", None).public_key()))
    with Session(legacy) as session:
        versions = session.execute(
            text("SELECT payload FROM event WHERE type = 'registry.recorded' ORDER BY seq")
        ).all()
        findings, _, _ = verify_database(session, engine=trusted)
    legacy.dispose()
    assert [json.loads(p)["registry"]["approvers"][0]["name"]["en"] for (p,) in versions] == [
        "Dr Yaqoob Al Raisi",
        "Dr Yaqoob bin Said Al Raisi",
    ]
    assert all("signatures" not in json.loads(p) or not json.loads(p)["signatures"] for (p,) in versions)
    assert findings == []
