"""Correcting an ingestion: a batch withdrawn by a signed, recorded event no longer counts, so the corrected
export ingests cleanly; quarantined rows go in once fixed; `history` shows both and `audit verify` checks them."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlmodel import Session, col, select

from musharaka.state.db import get_engine
from musharaka.state.events import canonical, event_hash
from musharaka.state.seal import sign_hash
from musharaka.state.signing import load_private
from musharaka.state.tables import Contribution, Event, StageRun
from tests.conftest import Workspace
from tests.flows import exports
from tests.flows.exports import CAMPAIGN, GOOGLE_ROWS
from tests.flows.test_ingest import ingest, sql
from tests.flows.test_lifecycle import ok, to_conduct

pytestmark = pytest.mark.prefect  # runs flows on Prefect's server

REASON = "exported from the draft form: roles and one rating were wrong"


@pytest.fixture
def conduct(ws: Workspace) -> Workspace:
    """The satisfaction survey set up for real exports, collecting."""
    exports.prepare_plan(ws)
    to_conduct(ws)
    return ws


def bad_google(ws: Workspace) -> Path:
    """The Google Forms export of a draft of the form: the student is down as an innovator, and the innovator's
    rating of 2 reads 20 (quarantined)."""
    rows = [row[:] for row in GOOGLE_ROWS]
    rows[0][6] = "Innovators"
    rows[2][2] = "20"
    return exports.google_forms(ws, rows, name="google-bad.csv")


def bad_kobo(ws: Workspace, role: str = "students", overall: str = "9") -> Path:
    """KoboToolbox's export with the researcher down as `role` and the student's rating of 5 as `overall`."""
    text = exports.kobo(ws).read_text(encoding="utf-8")
    text = text.replace('"easy";"";"researchers";"Muscat"', f'"easy";"";"{role}";"Muscat"')
    text = text.replace('"5";"equivalency"', f'"{overall}";"equivalency"')
    return ws.write(f"kobo-{role}-{overall}.csv", text)


def batches(ws: Workspace) -> list[dict[str, Any]]:
    return json.loads(ok(ws, "contributions", CAMPAIGN, "--json", now="2025-08-15T12:00+04:00"))  # type: ignore[no-any-return]


def withdraw(ws: Workspace, batch: int, *extra: str, who: str = "planning.team", now: str) -> Result:
    return ws.run("withdraw", CAMPAIGN, str(batch), *extra, *ws.key(who), now=now)


def counting(ws: Workspace) -> dict[str, Any]:
    """The contributions that count, by response key: audience and answers."""
    with Session(get_engine(ws.db_url)) as session:
        rows = session.exec(select(Contribution).where(Contribution.withdrawn == 0)).all()
    return {r.row_key: (r.audience, json.loads(r.answers)) for r in rows}


def conduct_outputs(ws: Workspace) -> dict[str, Any]:
    with Session(get_engine(ws.db_url)) as session:
        run = session.exec(select(StageRun).where(StageRun.stage == "conduct")).one()
    return json.loads(run.outputs or "{}")  # type: ignore[no-any-return]


def test_a_withdrawn_and_corrected_batch_counts_only_the_corrected_rows(conduct: Workspace) -> None:
    out = ingest(conduct, bad_google(conduct))
    assert "4 rows read = 3 stored + 1 quarantined + 0 duplicates (google-bad.csv" in out
    [bad] = batches(conduct)

    done = withdraw(conduct, bad["batch"], "--reason", REASON, now="2025-08-15T08:30+04:00")
    assert done.exit_code == 0, done.stderr
    assert f"batch {bad['batch']} (google-bad.csv) withdrawn: its 3 stored and 1 quarantined rows no longer count" in (
        done.output
    )
    # the two rows the draft had right are not duplicates of its withdrawn ones: all four go in
    out = ingest(conduct, exports.google_forms(conduct), now="2025-08-15T09:00+04:00")
    assert "4 rows read = 4 stored + 0 quarantined + 0 duplicates (google.csv" in out

    first, second = batches(conduct)
    assert (first["withdrawn"]["by"], first["withdrawn"]["reason"]) == ("planning.team", REASON)
    assert second["withdrawn"] is None and second["rows_stored"] == 4
    listing = ok(conduct, "contributions", CAMPAIGN, now="2025-08-15T12:00+04:00")
    withdrawal = first["withdrawn"]["event"]
    assert f"withdrawn by planning.team at 2025-08-15 08:30 +04 (event {withdrawal}): {REASON}" in listing
    assert "4 contribution(s) from 1 ingestion(s); 1 withdrawn ingestion(s) no longer count" in listing
    held = ok(conduct, "contributions", CAMPAIGN, "--quarantined", now="2025-08-15T12:00+04:00")
    assert "google-bad.csv:4: overall: expected a whole number from 1 to 5, found '20'" in held
    assert f"google-bad.csv:4: withdrawn with its batch (event {withdrawal})" in held
    assert "1 row(s) quarantined; nothing of them was stored as a contribution; 1 withdrawn with their batch." in held

    # the window closed on 14 August: conduct counts the corrected file's four rows, one in each of four
    # audiences (had the draft's rows still counted, the student would be there twice, once as an innovator,
    # and the draft's two right rows would have kept the corrected ones out as duplicates)
    assert "conduct (attempt 1) awaiting-gate" in ok(conduct, "advance", CAMPAIGN, now="2025-08-15T09:30+04:00")
    counted = conduct_outputs(conduct)
    assert counted["total"] == 4
    assert counted["by_audience"] == {"students": 1, "researchers": 1, "innovators": 1, "education-institutions": 1}
    assert counted["by_channel"] == {"e-survey": 4}
    assert counted["answered"]["overall"] == 4

    # once conduct's gate approves the count, the analysis uses it: no batch can be withdrawn any more
    ok(conduct, "approve", CAMPAIGN, "conduct", *conduct.key("dg.planning"), now="2025-08-16T09:00+04:00")
    before = conduct.run("history", CAMPAIGN, "--json").output
    late = withdraw(conduct, second["batch"], "--reason", "second thoughts", now="2025-08-16T10:00+04:00")
    assert late.exit_code == 1
    assert "(conduct-approved)" in late.stderr and "was approved on 2025-08-16" in late.stderr
    assert conduct.run("history", CAMPAIGN, "--json").output == before


def test_a_bad_batchs_response_ids_block_the_corrected_export_until_it_is_withdrawn(conduct: Workspace) -> None:
    assert "2 rows read = 1 stored + 1 quarantined + 0 duplicates" in ingest(conduct, bad_kobo(conduct))
    # the reported problem: the researcher's response id is taken by the wrong row; the student's fixed row,
    # quarantined before, goes in (and says so)
    again = ingest(conduct, exports.kobo(conduct), now="2025-08-15T08:10+04:00")
    assert "2 rows read = 1 stored + 0 quarantined + 1 duplicates" in again
    assert "1 of the rows stored had been quarantined by an earlier file" in again
    researcher, student = "kobo:6f1c2a7e-1d7b-4c55-9f0e-1b2a3c4d5e6f", "kobo:0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"
    assert counting(conduct)[researcher][0] == "students"

    bad = batches(conduct)[0]
    assert withdraw(conduct, bad["batch"], "--reason", REASON, now="2025-08-15T08:20+04:00").exit_code == 0
    out = ingest(conduct, exports.kobo(conduct), now="2025-08-15T08:30+04:00")
    assert "2 rows read = 1 stored + 0 quarantined + 1 duplicates" in out  # the student's row is in already
    rows = counting(conduct)
    assert set(rows) == {researcher, student}
    assert rows[researcher][0] == "researchers" and rows[student][1]["overall"] == 5.0


def test_a_quarantined_row_fixed_in_part_is_kept_aside_again_and_taken_once_fixed(conduct: Workspace) -> None:
    assert "2 rows read = 1 stored + 1 quarantined" in ingest(conduct, bad_kobo(conduct, role="researchers"))
    # the student's rating is fixed, but the role is now one the plan does not have: kept aside again, for the
    # new reason, not counted as a duplicate of the row kept aside before
    kobo = exports.kobo(conduct).read_text(encoding="utf-8")
    partly = conduct.write("kobo-partly.csv", kobo.replace('"acceptable";"";"students"', '"acceptable";"";"visitors"'))
    out = ingest(conduct, partly, now="2025-08-15T08:10+04:00")
    assert "2 rows read = 0 stored + 1 quarantined + 1 duplicates" in out
    # the same bad row again is a duplicate
    again = ingest(conduct, partly, now="2025-08-15T08:20+04:00")
    assert "2 rows read = 0 stored + 0 quarantined + 2 duplicates" in again
    held = ok(conduct, "contributions", CAMPAIGN, "--quarantined", now="2025-08-15T08:25+04:00")
    assert "kobo-researchers-9.csv:4: overall: expected a whole number from 1 to 5, found '9'" in held
    assert "kobo-partly.csv:4: role: expected" in held and "found 'visitors'" in held
    assert "2 row(s) quarantined; nothing of them was stored as a contribution." in held

    out = ingest(conduct, exports.kobo(conduct), now="2025-08-15T08:30+04:00")
    assert "2 rows read = 1 stored + 0 quarantined + 1 duplicates" in out
    assert "1 of the rows stored had been quarantined by an earlier file" in out
    assert counting(conduct)["kobo:0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"][0] == "students"
    taken = batches(conduct)[-1]["batch"]
    held = ok(conduct, "contributions", CAMPAIGN, "--quarantined", now="2025-08-15T08:35+04:00")
    assert f"kobo-researchers-9.csv:4: stored since, corrected (event {taken})" in held
    assert f"kobo-partly.csv:4: stored since, corrected (event {taken})" in held
    assert "2 row(s) quarantined; nothing of them was stored as a contribution; 2 stored since from a corrected" in held
    listing = json.loads(ok(conduct, "contributions", CAMPAIGN, "--quarantined", "--json", now="2025-08-15T08:40Z"))
    assert [(item["stored_by"], item["withdrawn"]) for item in listing] == [(taken, None), (taken, None)]


def recorded(ws: Workspace) -> list[tuple[str, int, str, int]]:
    """Every event of every chain, and how many rows each withdrawal marks: what a refusal must leave alone."""
    with Session(get_engine(ws.db_url)) as session:
        events = session.exec(select(Event).order_by(col(Event.campaign_id), col(Event.seq))).all()
        marked = session.exec(select(Contribution).where(Contribution.withdrawn != 0)).all()
    return [(e.campaign_id, e.seq, e.hash, sum(1 for r in marked if r.withdrawn == e.seq)) for e in events]


def test_withdrawals_that_cannot_be_made_are_refused_and_write_nothing(conduct: Workspace) -> None:
    ingest(conduct, bad_google(conduct))
    batch = batches(conduct)[0]["batch"]
    before = recorded(conduct)
    at = "2025-08-15T08:30+04:00"
    wrong_key = ["--as", "planning.team", "--key", str(conduct.keys["dg.planning"])]
    for result, code, words in [
        (withdraw(conduct, 99, "--reason", REASON, now=at), "unknown-batch", "has no batch 99: a batch is named"),
        (withdraw(conduct, batch - 1, "--reason", REASON, now=at), "unknown-batch", f"({batch}; musharaka"),
        (
            withdraw(conduct, batch, "--reason", REASON, who="dg.planning", now=at),
            "not-a-planner",
            "dg.planning does not hold the planner duty in the registry, which withdrawing a batch takes",
        ),
        (
            conduct.run("withdraw", CAMPAIGN, str(batch), "--reason", REASON, *wrong_key, now=at),
            "unknown-key",
            "is not one of planning.team's keys",
        ),
        (withdraw(conduct, batch, "--reason", "  ", now=at), "no-reason", "give a reason (--reason)"),
    ]:
        assert result.exit_code == 1, result.output
        assert f"refused ({code}): " in result.stderr and words in result.stderr, result.stderr
        assert recorded(conduct) == before
    missing = conduct.run("withdraw", CAMPAIGN, str(batch), "--reason", REASON, now=at)
    assert missing.exit_code == 2 and "--as" in missing.stderr  # no one proven, nothing to try

    assert withdraw(conduct, batch, "--reason", REASON, now=at).exit_code == 0
    before = recorded(conduct)
    again = conduct.run("--lang", "ar", "withdraw", CAMPAIGN, str(batch), "--reason", "again",
                        *conduct.key("planning.team"), now="2025-08-15T08:40+04:00")  # fmt: skip
    assert again.exit_code == 1
    assert "سُحبت دفعة المساهمات هذه من قبل." in again.stderr  # what the refusal means, in Arabic first
    assert f"(already-withdrawn): batch {batch} (google-bad.csv) was already withdrawn by planning.team at " in (
        again.stderr
    )
    assert f"2025-08-15 08:30 +04 (event {batch + 1}): {REASON}" in again.stderr
    assert recorded(conduct) == before


def test_while_conduct_is_reviewed_a_batch_is_withdrawn_only_after_the_gate_sends_it_back(conduct: Workspace) -> None:
    ingest(conduct, bad_google(conduct))
    batch = batches(conduct)[0]["batch"]
    assert "conduct (attempt 1) awaiting-gate" in ok(conduct, "advance", CAMPAIGN, now="2025-08-15T09:00+04:00")
    before = recorded(conduct)
    held = withdraw(conduct, batch, "--reason", REASON, now="2025-08-15T09:30+04:00")
    assert held.exit_code == 1 and "refused (under-review): the conduct gate of" in held.stderr
    assert "have the gate rejected" in held.stderr and recorded(conduct) == before

    rejected = conduct.reject(CAMPAIGN, "conduct", "dg.planning", "a draft was exported", now="2025-08-15T10:00+04:00")
    assert rejected.exit_code == 0, rejected.stderr
    assert withdraw(conduct, batch, "--reason", REASON, now="2025-08-15T10:30+04:00").exit_code == 0
    ingest(conduct, exports.google_forms(conduct), now="2025-08-15T11:00+04:00")
    assert "conduct (attempt 2) awaiting-gate" in ok(conduct, "advance", CAMPAIGN, now="2025-08-15T11:30+04:00")
    with Session(get_engine(conduct.db_url)) as session:
        runs = session.exec(select(StageRun).where(StageRun.stage == "conduct").order_by(col(StageRun.attempt))).all()
    assert [json.loads(r.outputs or "{}").get("total") for r in runs] == [3, 4]


def test_history_shows_a_resubmission_and_a_withdrawal_in_english_and_arabic(conduct: Workspace) -> None:
    ingest(conduct, bad_kobo(conduct, role="researchers"))
    ingest(conduct, exports.kobo(conduct), now="2025-08-15T08:10+04:00")
    ingest(conduct, bad_google(conduct), now="2025-08-15T08:20+04:00")
    batch = batches(conduct)[-1]["batch"]
    assert withdraw(conduct, batch, "--reason", REASON, now="2025-08-15T08:30+04:00").exit_code == 0

    english = ok(conduct, "history", CAMPAIGN, now="2025-08-15T09:00+04:00")
    assert "contributions from kobo.csv: 2 read, 1 stored (1 of them quarantined before), 1 duplicates" in english
    assert (
        f"contributions of event {batch} (google-bad.csv) withdrawn by planning.team: 3 stored and 1 quarantined "
        f"rows no longer count: {REASON}"
    ) in english
    entries = json.loads(ok(conduct, "history", CAMPAIGN, "--json", now="2025-08-15T09:00+04:00"))
    [entry] = [e for e in entries if e["type"] == "contributions.withdrawn"]
    assert entry["actor"] == "planning.team" and entry["payload"]["reason"] == REASON

    arabic = ok(conduct, "--lang", "ar", "history", CAMPAIGN, now="2025-08-15T09:00+04:00")
    isolate = "\u2068{}\u2069".format
    assert (
        f"سحب {isolate('planning.team')} مساهمات الحدث {batch} (الملف {isolate('google-bad.csv')}): "
        "لم تعد تُحتسب صفوفها المخزّنة 3 ولا المعزولة 1"
    ) in arabic
    assert f": {isolate(REASON)}" in arabic  # the reason as written, set apart
    assert f"مساهمات من الملف {isolate('kobo.csv')}: الصفوف المقروءة 2، والمخزّنة 1 (منها 1 عُزلت من قبل)" in arabic


def rewrite_and_rehash(ws: Workspace, seq: int, change: Callable[[dict[str, Any]], None]) -> None:
    """What a rogue with the database and the engine's key, but no person's key, can do: edit an event's payload,
    then recompute and re-sign every hash of the chain from it on (the withdrawal's own signature must catch it)."""
    engine = load_private(ws.root / "engine-key.pem", None)
    with Session(get_engine(ws.db_url)) as session:
        chain = session.exec(select(Event).where(Event.campaign_id == CAMPAIGN).order_by(col(Event.seq))).all()
        prev = ""
        for event in chain:
            if event.seq == seq:
                body = json.loads(event.payload)
                change(body)
                event.payload = canonical(body)
            if event.seq >= seq:
                event.prev_hash = prev
                event.hash = event_hash(CAMPAIGN, event.seq, event.at, event.actor, event.type, event.payload, prev)
                event.engine_signature, event.person_signature = sign_hash(engine, event.hash), ""
                session.add(event)
            prev = event.hash
        session.commit()


def verify_names(ws: Workspace, seq: int, words: str) -> None:
    result = ws.run("audit", "verify")
    assert result.exit_code == 1, result.output
    assert f"{CAMPAIGN} event {seq}: {words}" in result.stderr, result.stderr


def test_audit_verify_checks_a_withdrawal_and_names_one_tampered_with(conduct: Workspace, tmp_path: Path) -> None:
    ingest(conduct, bad_google(conduct))
    batch = batches(conduct)[0]["batch"]
    assert withdraw(conduct, batch, "--reason", REASON, now="2025-08-15T08:30+04:00").exit_code == 0
    ingest(conduct, exports.google_forms(conduct), now="2025-08-15T09:00+04:00")
    corrected, withdrawal = batch + 2, batch + 1
    verified = conduct.run("audit", "verify")
    assert verified.exit_code == 0, verified.stderr
    for at, count in [("2025-08-15T08:29+04:00", 3), ("2025-08-15T08:30+04:00", 0), ("2025-08-15T09:00+04:00", 4)]:
        replayed = json.loads(ok(conduct, "replay", CAMPAIGN, "--at", at, "--json", now=at))
        assert replayed["contributions"] == count, at
    bundle = tmp_path / "bundle"
    ok(conduct, "audit", "export", "--campaign", CAMPAIGN, str(bundle), now="2025-08-15T12:00+04:00")
    assert conduct.run("audit", "verify", "--bundle", str(bundle), *conduct.engine()).exit_code == 0

    # the withdrawn draft's wrong row made to count again behind the log's back
    sql(conduct, f"update contribution set withdrawn = 0 where withdrawn = {withdrawal} and audience = 'innovators'")
    verify_names(conduct, withdrawal, f"1 rows of batch {batch} are not marked as withdrawn by it (they count again)")
    # the marks are the withdrawal's projection: rebuilding from the log puts them back
    assert "projections rebuilt from" in ok(conduct, "state", "rebuild", now="2025-08-15T12:00+04:00")
    assert conduct.run("audit", "verify").exit_code == 0
    # a corrected row taken out of the count behind the log's back
    students = f"batch = '{corrected}' and audience = 'students'"
    sql(conduct, f"update contribution set withdrawn = {withdrawal} where {students}")
    verify_names(conduct, corrected, "1 rows of this batch are marked withdrawn, but no event withdrew it")
    ok(conduct, "state", "rebuild", now="2025-08-15T12:00+04:00")

    # a rewritten reason, the chain's hashes recomputed: it is no longer what was signed
    rewrite_and_rehash(conduct, withdrawal, lambda body: body.update(reason="duplicate export"))
    verify_names(conduct, withdrawal, "the recorded withdrawal differs from what was signed")

    # and rewritten in what was signed too: only the signature tells
    def forge(body: dict[str, Any]) -> None:
        body["reason"] = body["signed"]["reason"] = "duplicate export"

    rewrite_and_rehash(conduct, withdrawal, forge)
    verify_names(conduct, withdrawal, "the signature of planning.team does not verify: the withdrawal was altered")
