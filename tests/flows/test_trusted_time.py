"""Time you can trust: a signing time is believed only between its gate's opening and its recording (five
minutes of clock skew either side); refusals are dated by the engine; revocation and escalation are judged at
the recording instant, never at a time the signer or the caller chose."""

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from musharaka.flows.engine import decisions, records
from musharaka.flows.ingest import withdrawal
from musharaka.state.db import transaction
from musharaka.state.signing import SignedDecision, load_private, new_key_pair, sign
from tests.conftest import Workspace, forget_settings
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS
from tests.flows.test_gates import ESCALATION, GPA, edit_gates, edit_registry, gpa_in_conduct, started
from tests.flows.test_lifecycle import ok, to_conduct

pytestmark = pytest.mark.prefect  # runs flows on Prefect's server

OPENED = "2025-06-15T09:00+04:00"  # `started` opens the prepare gate at once: 05:00 UTC


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def history(ws: Workspace, campaign: str = CAMPAIGN) -> list[dict[str, Any]]:
    result = ws.run("history", campaign, "--json")  # at the clock: it takes no --now in a real workspace
    assert result.exit_code == 0, result.stderr
    return json.loads(result.output)  # type: ignore[no-any-return]


def signed_by(ws: Workspace, approver: str, when: str, *, stage: str = "prepare", **extra: Any) -> SignedDecision:
    """A decision signed with the approver's own key, dated `when` (the signer's clock, whatever it says)."""
    return decisions.prepare_signature(
        extra.pop("campaign", CAMPAIGN),
        stage,
        decision=extra.pop("decision", "approve"),
        text=extra.pop("text", ""),
        approver=approver,
        key_path=ws.keys[approver],
        passphrase=None,
        now=at(when),
        **extra,
    )


def submit(campaign: str, signed: SignedDecision, when: str) -> None:
    decisions.submit(campaign, signed, plans=records.load_plan_set(), now=at(when))


def last_refusal(ws: Workspace, campaign: str = CAMPAIGN) -> dict[str, Any]:
    last = history(ws, campaign)[-1]
    assert last["type"] == "gate.refused", last
    return last


# --- the signing time lies between the gate's opening and the recording ------------------------


def test_a_decision_signed_months_before_its_gate_opened_is_refused_and_recorded(ws: Workspace) -> None:
    started(ws, when=OPENED)
    early = ws.root / "early.json"
    signing = ws.run(
        "sign",
        CAMPAIGN,
        "prepare",
        "--decision",
        "approve",
        *ws.key("dg.planning"),
        "--out",
        str(early),
        now="2025-03-01T09:00+04:00",
    )
    assert signing.exit_code == 0, signing.stderr
    result = ws.run("decide", str(early), now="2025-06-15T10:00+04:00")
    assert result.exit_code == 1
    assert "refused (bad-time)" in result.stderr
    assert (
        "it is dated 2025-03-01T05:00:00+00:00, before the prepare gate (attempt 1) opened at "
        "2025-06-15T05:00:00+00:00 (a signing time is believed from then, less 5 minutes of clock skew)"
    ) in result.stderr
    assert last_refusal(ws)["payload"]["code"] == "bad-time"
    assert not [e for e in history(ws) if e["type"] == "gate.decided"]


@pytest.mark.parametrize(
    ("signed_at", "accepted"),
    [
        ("2025-06-15T08:55:00+04:00", True),  # exactly the five minutes' skew before the opening
        ("2025-06-15T08:54:59+04:00", False),  # one second more
    ],
)
def test_a_signing_clock_may_run_five_minutes_behind_the_gate_opening(
    ws: Workspace, signed_at: str, accepted: bool
) -> None:
    started(ws, when=OPENED)
    signed = signed_by(ws, "dg.planning", signed_at)
    if accepted:
        submit(CAMPAIGN, signed, "2025-06-15T09:30+04:00")
        [decided] = [e for e in history(ws) if e["type"] == "gate.decided"]
        assert decided["payload"]["signed"]["signed_at"] == signed.signed_at.isoformat()
    else:
        with pytest.raises(records.Refused, match="before the prepare gate"):
            submit(CAMPAIGN, signed, "2025-06-15T09:30+04:00")


def test_a_decision_signed_after_its_recording_is_refused(ws: Workspace) -> None:
    started(ws, when=OPENED)
    ahead = signed_by(ws, "dg.planning", "2025-06-15T10:05:01+04:00")
    with pytest.raises(records.Refused, match="dated in the future") as refused:
        submit(CAMPAIGN, ahead, "2025-06-15T10:00+04:00")
    assert refused.value.code == "bad-time"


def test_an_extension_signed_before_conduct_started_is_refused(ws: Workspace) -> None:
    gpa_in_conduct(ws)  # conduct (attempt 1) starts when the plan gate passes, 2025-04-15 09:00 Muscat time
    extension = signed_by(
        ws,
        "dg.planning",
        "2025-04-01T09:00+04:00",
        campaign=GPA,
        stage="conduct",
        decision="extend",
        text="exams",
        closes=date(2025, 9, 30),
    )
    with pytest.raises(records.Refused, match=r"before conduct \(attempt 1\) started at 2025-04-15T05:00:00\+00:00"):
        submit(GPA, extension, "2025-06-10T10:00+04:00")
    assert last_refusal(ws, GPA)["payload"]["code"] == "bad-time"
    # signed once conduct ran, it is recorded
    ok(
        ws,
        "extend",
        GPA,
        "--closes",
        "2025-09-30",
        "--reason",
        "exams",
        *ws.key("dg.planning"),
        now="2025-06-10T10:05+04:00",
    )
    [extended] = [e for e in history(ws, GPA) if e["type"] == "window.extended"]
    assert extended["payload"]["closes"] == "2025-09-30"


def test_a_withdrawal_signed_before_its_batch_was_ingested_is_refused(ws: Workspace) -> None:
    to_conduct(ws)
    ok(ws, "ingest", CAMPAIGN, str(ws.write("c.csv", CONTRIBUTIONS)), now="2025-08-15T08:00+04:00")
    batch = next(e["seq"] for e in history(ws) if e["type"] == "contributions.ingested")
    key = load_private(ws.keys["planning.team"], None)
    registry = records.load_plan_set().registry
    assert registry is not None

    def withdraw(signed_at: str, recorded_at: str) -> withdrawal.Withdrawn:
        def write(session: Any) -> withdrawal.Withdrawn:
            signed = withdrawal.prepare(
                CAMPAIGN, batch, reason="a draft", person="planning.team", key=key, now=at(signed_at), session=session
            )
            return withdrawal.withdraw(CAMPAIGN, signed, registry=registry, now=at(recorded_at), session=session)

        return transaction(write)

    with pytest.raises(records.Refused, match=f"before batch {batch} was ingested at 2025-08-15T04:00:00") as early:
        withdraw("2025-08-14T09:00+04:00", "2025-08-15T08:30+04:00")
    assert early.value.code == "bad-time"
    assert withdraw("2025-08-15T08:20+04:00", "2025-08-15T08:30+04:00").batch == batch


# --- refusals are dated by the engine -----------------------------------------------------------


def junk_dated_2099(ws: Workspace) -> Path:
    """A decision signed by a key nobody registered, dated 2099: what anyone can write without a key."""
    pem, public = new_key_pair(None)
    stray = ws.root / "stray.pem"
    stray.write_bytes(pem)
    stray.chmod(0o600)
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    unsigned = SignedDecision(
        campaign=CAMPAIGN,
        stage="prepare",
        attempt=1,
        decision="approve",
        text="",
        outputs_digest="0" * 64,
        signed_at=at("2099-01-01T00:00:00+00:00"),
        approver="dg.planning",
        public_key=public,
    )
    key = load_pem_private_key(pem, password=None)
    path = ws.root / "junk.json"
    path.write_text(sign(unsigned, key).model_dump_json(), encoding="utf-8")  # type: ignore[arg-type]
    return path


def test_a_junk_decision_dated_2099_is_refused_at_the_engines_time_and_blocks_nothing(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(ws, when=OPENED)
    monkeypatch.setenv("MUSHARAKA_ALLOW_NOW", "0")  # a real workspace: the clock, no --now
    forget_settings()
    with freeze_time("2025-06-15T06:00:00Z"):
        refused = ws.run("decide", str(junk_dated_2099(ws)))
    assert refused.exit_code == 1 and "refused (unknown-key)" in refused.stderr
    refusal = last_refusal(ws)
    assert refusal["at"].startswith("2025-06-15T06:00:00") and "2099" not in refusal["at"]
    # the approver's own key, dated 2099: refused for its time, and recorded at the engine's time too
    with freeze_time("2025-06-15T06:01:00Z"):
        ahead = ws.root / "ahead.json"
        ahead.write_text(signed_by(ws, "dg.planning", "2099-01-01T00:00+00:00").model_dump_json(), encoding="utf-8")
        second = ws.run("decide", str(ahead))
    assert second.exit_code == 1 and "refused (bad-time)" in second.stderr
    assert last_refusal(ws)["at"].startswith("2025-06-15T06:01:00")
    # a real decision a few minutes later is recorded: the log's time order never reached 2099
    with freeze_time("2025-06-15T06:05:00Z"):
        approved = ws.approve(CAMPAIGN, "prepare", "dg.planning", "--no-advance")
    assert approved.exit_code == 0, approved.stderr
    events = history(ws)
    assert [e["payload"]["approver"] for e in events if e["type"] == "gate.decided"] == ["dg.planning"]
    assert all(not e["at"].startswith("2099") for e in events)


# --- revocation and escalation at the recording instant ------------------------------------------


def test_a_key_revoked_before_the_recording_signs_nothing_whatever_its_signing_time(ws: Workspace) -> None:
    started(ws, when=OPENED)
    edit_registry(ws, lambda r: r["approvers"][0]["keys"][0].update(revoked_at="2025-06-15T10:00:00+04:00"))
    before_revocation = signed_by(ws, "dg.planning", "2025-06-15T09:30+04:00")  # in force when signed
    recording = r"not in force at the recording time 2025-06-15T10:30:00\+04:00"
    with pytest.raises(records.Refused, match=recording) as refused:
        submit(CAMPAIGN, before_revocation, "2025-06-15T10:30+04:00")
    assert refused.value.code == "key-not-in-force"


def test_escalation_is_judged_when_recorded_not_when_the_signer_says(ws: Workspace) -> None:
    edit_gates(ws, CAMPAIGN, "prepare", ESCALATION)
    started(ws, when=OPENED)  # due at the end of 17 June, Muscat time: 2025-06-17T20:00Z
    # dated three minutes after the due time, recorded a minute before it (within the clock skew)
    early = signed_by(ws, "undersecretary", "2025-06-17T20:03:00+00:00")
    with pytest.raises(records.Refused, match="only once it is overdue") as refused:
        submit(CAMPAIGN, early, "2025-06-17T19:59:00+00:00")
    assert refused.value.code == "role-not-allowed"
    submit(CAMPAIGN, signed_by(ws, "undersecretary", "2025-06-17T20:00:30+00:00"), "2025-06-17T20:01:00+00:00")
    decided = [e for e in history(ws) if e["type"] == "gate.decided"]
    assert decided[-1]["payload"]["capacity"] == "escalation"


@pytest.mark.parametrize("command", ["approve", "decide", "extend", "sign"])
def test_outside_a_rehearsal_workspace_no_decision_command_takes_now(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    started(ws, when=OPENED)
    monkeypatch.setenv("MUSHARAKA_ALLOW_NOW", "0")
    forget_settings()
    result = ws.run(command, "--help", now="2025-06-18T09:00+04:00")
    assert result.exit_code == 2 and f"refused: `{command}` does not take --now" in result.stderr
