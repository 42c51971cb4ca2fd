"""Fair lots: a vote's tie is drawn from a seed nobody knows before the window closes (the digest of the
ballots ingested), stated in the analysis outputs and recomputable from the exported log."""

import hashlib
import json
from typing import Any

import pytest
from sqlmodel import Session, select

from musharaka.flows.engine import records
from musharaka.flows.render.documents import document_path
from musharaka.state.db import get_engine
from musharaka.state.tables import StageRun
from tests.conftest import Workspace
from tests.flows.samples import DECISION
from tests.flows.test_lifecycle import ok

pytestmark = pytest.mark.prefect  # runs flows on Prefect's server

CHATBOT = "moheri-2025-q1-chatbot-name"
HEADER = "submitted_at,channel,audience,preferred-name,use-chatbot\n"


def ballots(*names: str, day: str = "2025-02-10") -> str:
    """One ballot per name, a minute apart on `day`, by students on the website."""
    rows = [f"{day}T09:{i:02d}:00+04:00,website,students,{name},often" for i, name in enumerate(names)]
    return HEADER + "\n".join(rows) + "\n"


def seed_from_the_log(ws: Workspace, campaign: str) -> str:
    """The seed as the analysis document says to recompute it: the rows digests of the campaign's
    contributions.ingested events, in sequence order, one per line, hashed with SHA-256."""
    events: list[dict[str, Any]] = json.loads(ok(ws, "history", campaign, "--json", now="2025-03-30T09:00+04:00"))
    digests = [
        e["payload"]["rows_digest"]
        for e in sorted(events, key=lambda e: e["seq"])
        if e["type"] == "contributions.ingested"
    ]
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def engine_seed(ws: Workspace, campaign: str) -> str:
    from musharaka.stages.analyse import lot_seed

    with Session(get_engine(ws.db_url)) as session:
        return lot_seed(records.ingested_rows_digests(campaign, session=session))


def test_the_seed_changes_when_a_ballot_is_added_and_is_what_the_log_recomputes(ws: Workspace) -> None:
    ok(ws, "start", CHATBOT, now="2025-01-20T09:00+04:00")
    ok(ws, "approve", CHATBOT, "prepare", *ws.key("dg.planning"), now="2025-01-21T09:00+04:00")
    ok(ws, "approve", CHATBOT, "plan", *ws.key("dg.planning"), now="2025-01-22T09:00+04:00")
    ok(ws, "ingest", CHATBOT, str(ws.write("a.csv", ballots("mueen", "daleel"))), now="2025-02-10T12:00+04:00")
    before = engine_seed(ws, CHATBOT)
    assert before == seed_from_the_log(ws, CHATBOT)
    one_more = ballots("sanad", day="2025-02-11")
    ok(ws, "ingest", CHATBOT, str(ws.write("b.csv", one_more)), now="2025-02-11T12:00+04:00")
    after = engine_seed(ws, CHATBOT)
    assert after != before and after == seed_from_the_log(ws, CHATBOT)


def test_a_tied_vote_is_drawn_from_the_seed_of_its_ballots_stated_in_the_outputs(ws: Workspace) -> None:
    ok(ws, "start", CHATBOT, now="2025-01-20T09:00+04:00")
    ok(ws, "approve", CHATBOT, "prepare", *ws.key("dg.planning"), now="2025-01-21T09:00+04:00")
    ok(ws, "approve", CHATBOT, "plan", *ws.key("dg.planning"), now="2025-01-22T09:00+04:00")
    tie = ballots("mueen", "daleel", "mueen", "daleel", "sanad")
    ok(ws, "ingest", CHATBOT, str(ws.write("votes.csv", tie)), now="2025-02-21T09:00+04:00")
    ok(ws, "advance", CHATBOT, now="2025-02-21T10:00+04:00")
    ok(ws, "approve", CHATBOT, "conduct", *ws.key("dg.planning"), now="2025-02-22T09:00+04:00")
    ok(ws, "submit", CHATBOT, "analyse", str(ws.write("decision.yaml", DECISION)), now="2025-02-23T09:00+04:00")
    ok(ws, "advance", CHATBOT, now="2025-02-23T09:05+04:00")
    with Session(get_engine(ws.db_url)) as session:
        run = session.exec(select(StageRun).where(StageRun.campaign_id == CHATBOT, StageRun.stage == "analyse")).one()
    vote = json.loads(run.outputs or "{}")["vote"]
    seed = seed_from_the_log(ws, CHATBOT)
    # daleel and mueen tie at 2; in the order of their ids they are 0 daleel, 1 mueen: the seed's parity decides
    expected = ["daleel", "mueen"][int(seed, 16) % 2]
    assert (vote["tie_rule"], vote["lot_seed"], vote["winner"]) == ("lot", seed, expected)
    assert sorted(vote["tied"]) == ["daleel", "mueen"]
    # an auditor recomputes it from an exported bundle, as the README says
    bundle = ws.root / "bundle"
    ok(ws, "audit", "export", "--campaign", CHATBOT, str(bundle), now="2025-02-23T10:00+04:00")
    lines = [json.loads(line) for line in (bundle / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    ingested = sorted(
        (e for e in lines if e["campaign_id"] == CHATBOT and e["type"] == "contributions.ingested"),
        key=lambda e: e["seq"],
    )
    digests = [json.loads(e["payload"])["rows_digest"] for e in ingested]
    assert hashlib.sha256("\n".join(digests).encode()).hexdigest() == seed
    # and the documents state it, in Arabic and in English
    documents = json.loads(run.documents or "[]")
    assert sorted(d["lang"] for d in documents) == ["ar", "en"]
    for document in documents:
        page = document_path(document["path"]).read_text(encoding="utf-8")
        assert f"<code>{seed}</code>" in page, document["lang"]
