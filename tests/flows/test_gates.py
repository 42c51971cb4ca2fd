"""Gates management can trust: signed decisions, every refusal on the record, richer policies, extensions."""

import json
import os
import re
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from ruamel.yaml import YAML

from musharaka.flows.engine import decisions, records
from musharaka.state.signing import SignedDecision
from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN, CONTRIBUTIONS

GPA = "moheri-2025-q2-gpa-poll"


def history(ws: Workspace, campaign: str = CAMPAIGN) -> list[dict[str, Any]]:
    result = ws.run("history", campaign, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.output)  # type: ignore[no-any-return]


def gate(ws: Workspace, campaign: str = CAMPAIGN) -> dict[str, Any]:
    rows = json.loads(ws.run("gates", "--pending", "--json", now="2025-06-15T12:00+04:00").output)
    return next(row for row in rows if row["campaign"] == campaign)  # type: ignore[no-any-return]


def assert_refused(ws: Workspace, result: Any, code: str, message: str, campaign: str = CAMPAIGN) -> None:
    """Exit 1 with the message, and exactly one gate.refused event with the code appended last."""
    assert result.exit_code == 1, result.output + result.stderr
    assert message in result.stderr
    last = history(ws, campaign)[-1]
    assert (last["type"], last["payload"]["code"]) == ("gate.refused", code)


def edit_registry(ws: Workspace, change: Any, *, signed: bool = True) -> None:
    yaml = YAML()
    path = ws.plans / "approvers.yaml"
    registry = yaml.load(path)
    change(registry)
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(registry, handle)
    if signed:
        sign_registry(ws)


def sign_registry(ws: Workspace, *admins: str) -> None:
    """The registry's administrators sign the edited file; before it is first recorded, it is pinned anew."""
    for admin in admins or ("it.administrator",):
        signed = ws.run("people", "sign-registry", *ws.key(admin))
        if "has not been recorded yet" in signed.stderr:
            pinned = ws.run("people", "pin-registry", "--force")
            assert pinned.exit_code == 0, pinned.stderr
            return
        assert signed.exit_code == 0, signed.stderr


def edit_gates(ws: Workspace, campaign: str, stage: str, policy: str) -> None:
    path = ws.plans / f"campaigns/{campaign}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("gates:\n", f"gates:\n  {stage}:\n{policy}", 1), encoding="utf-8")


def started(ws: Workspace, campaign: str = CAMPAIGN, when: str = "2025-06-15T09:00+04:00") -> None:
    result = ws.run("start", campaign, now=when)
    assert result.exit_code == 0, result.stderr


# --- keys ---------------------------------------------------------------------------------------


def test_new_key_is_private_to_its_owner_and_prints_the_registry_entry(ws: Workspace) -> None:
    result = ws.run("keys", "new", "dg.planning", "--dir", str(ws.root / "mine"), now="2025-06-01T09:00+04:00")
    assert result.exit_code == 0, result.stderr
    [key] = (ws.root / "mine").glob("dg.planning-*.pem")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "public: ed25519:" in result.output and "valid_from: 2025-06-01T05:00:00+00:00" in result.output


@pytest.mark.prefect
def test_a_registered_new_key_signs_approvals(ws: Workspace) -> None:
    secret = ws.write("secret.txt", "correct horse battery staple\n")
    secret.chmod(0o600)  # a passphrase file others may read is refused, as a key file is
    made = ws.run(
        "keys",
        "new",
        "dg.planning",
        "--dir",
        str(ws.root / "mine"),
        "--passphrase-file",
        str(secret),
        now="2025-06-01T09:00+04:00",
    )
    public = next(line.split("public: ")[1] for line in made.output.splitlines() if "public:" in line)
    edit_registry(
        ws,
        lambda r: r["approvers"][0]["keys"].append(
            {"id": "dg-2", "public": public, "valid_from": "2025-06-01T05:00:00+00:00"}
        ),
    )
    [key] = (ws.root / "mine").glob("*.pem")
    started(ws)
    args = ["approve", CAMPAIGN, "prepare", "--as", "dg.planning", "--key", str(key), "--no-advance"]
    without = ws.run(*args, now="2025-06-15T10:00+04:00")
    assert without.exit_code == 2 and "passphrase-protected: give --passphrase-file" in without.stderr
    wrong = ws.write("wrong.txt", "tr0ub4dor\n")
    wrong.chmod(0o600)
    assert ws.run(*args, "--passphrase-file", str(wrong), now="2025-06-15T10:00+04:00").exit_code == 2
    ok = ws.run(*args, "--passphrase-file", str(secret), now="2025-06-15T10:00+04:00")
    assert ok.exit_code == 0, ok.stderr
    decided = history(ws)[-1]["payload"]
    assert decided["signed"]["public_key"] == public and decided["registry_digest"]


@pytest.mark.prefect
def test_a_key_file_others_can_read_is_not_used(ws: Workspace) -> None:
    started(ws)
    os.chmod(ws.keys["dg.planning"], 0o644)
    result = ws.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-15T10:00+04:00")
    assert (
        result.exit_code == 2 and "expected a key only its owner can read (mode 600), found mode 644" in result.stderr
    )


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.prefect
def test_unknown_approver_is_refused_and_recorded(ws: Workspace) -> None:
    started(ws)
    result = ws.run(
        "approve",
        CAMPAIGN,
        "prepare",
        "--as",
        "nobody",
        "--key",
        str(ws.keys["dg.planning"]),
        now="2025-06-15T10:00+04:00",
    )
    assert_refused(ws, result, "unknown-approver", "'nobody' is not in the approvers registry")


@pytest.mark.prefect
def test_role_the_policy_does_not_name_is_refused(ws: Workspace) -> None:
    started(ws)
    result = ws.approve(CAMPAIGN, "prepare", "legal.advisor", now="2025-06-15T10:00+04:00")
    assert_refused(ws, result, "role-not-allowed", "legal.advisor holds roles ['legal']; this gate needs one of")
    assert gate(ws)["approvals"] == []


@pytest.mark.prefect
def test_someone_elses_key_is_refused(ws: Workspace) -> None:
    started(ws)
    result = ws.run(
        "approve",
        CAMPAIGN,
        "prepare",
        "--as",
        "dg.planning",
        "--key",
        str(ws.keys["dir.digital"]),
        now="2025-06-15T10:00+04:00",
    )
    assert_refused(ws, result, "unknown-key", "is not one of dg.planning's keys")


def sign_to_file(ws: Workspace, name: str, *args: str, now: str) -> Path:
    out = ws.root / name
    result = ws.run("sign", *args, "--out", str(out), now=now)
    assert result.exit_code == 0, result.stderr
    return out


@pytest.mark.prefect
def test_an_altered_signed_decision_is_refused(ws: Workspace) -> None:
    started(ws)
    signed = sign_to_file(
        ws,
        "d.json",
        CAMPAIGN,
        "prepare",
        "--decision",
        "reject",
        "--text",
        "budget missing",
        *ws.key("dg.planning"),
        now="2025-06-15T10:00+04:00",
    )
    body = json.loads(signed.read_text())
    body["decision"], body["text"] = "approve", ""
    signed.write_text(json.dumps(body))
    result = ws.run("decide", str(signed), now="2025-06-15T10:01+04:00")
    assert_refused(ws, result, "bad-signature", "the signature does not verify with dg.planning's key")
    assert gate(ws)["approvals"] == []


@pytest.mark.prefect
def test_a_signature_over_outputs_since_changed_is_refused(ws: Workspace) -> None:
    started(ws)
    reviewed = gate(ws)["outputs_digest"]
    ws.reject(CAMPAIGN, "prepare", "dg.planning", "answer the readiness questions again", now="2025-06-15T10:00+04:00")
    ws.run("advance", CAMPAIGN, now="2025-06-15T11:00+04:00")
    # the rework produced the same outputs, so make them differ: the plan's subject changed
    plan = ws.plans / f"campaigns/{CAMPAIGN}.yaml"
    plan.write_text(plan.read_text(encoding="utf-8").replace("The digital services offered", "The services"), "utf-8")
    ws.reject(CAMPAIGN, "prepare", "dg.planning", "reword the subject", now="2025-06-15T12:00+04:00")
    ws.run("advance", CAMPAIGN, now="2025-06-15T13:00+04:00")
    current = gate(ws)
    assert current["attempt"] == 3 and current["outputs_digest"] != reviewed
    result = ws.approve(CAMPAIGN, "prepare", "dg.planning", "--digest", reviewed, now="2025-06-15T14:00+04:00")
    assert_refused(ws, result, "stale-digest", "review them again")


@pytest.mark.prefect
def test_a_signature_replayed_on_a_later_attempt_is_refused(ws: Workspace) -> None:
    started(ws)
    first = sign_to_file(
        ws,
        "a1.json",
        CAMPAIGN,
        "prepare",
        "--decision",
        "approve",
        *ws.key("dg.planning"),
        now="2025-06-15T10:00+04:00",
    )
    ws.reject(CAMPAIGN, "prepare", "dg.planning", "redo", now="2025-06-15T10:05+04:00")
    ws.run("advance", CAMPAIGN, now="2025-06-15T11:00+04:00")
    result = ws.run("decide", str(first), now="2025-06-15T11:05+04:00")
    assert_refused(ws, result, "replayed", "is for attempt 1 of the prepare gate; the open gate is attempt 2")


@pytest.mark.prefect
def test_a_signature_replayed_on_another_gate_or_campaign_is_refused(ws: Workspace) -> None:
    started(ws)
    started(ws, "moheri-2025-q3-video-call")
    signed = sign_to_file(
        ws, "p.json", CAMPAIGN, "prepare", "--decision", "approve", *ws.key("dg.planning"), now="2025-06-15T10:00+04:00"
    )
    decision = SignedDecision.model_validate_json(signed.read_text())
    now = datetime.fromisoformat("2025-06-15T10:01+04:00")
    plans = records.load_plan_set()
    with pytest.raises(records.Refused, match="is for campaign moheri-2025-q3-satisfaction, not moheri-2025-q3-video"):
        decisions.submit("moheri-2025-q3-video-call", decision, plans=plans, now=now)
    assert history(ws, "moheri-2025-q3-video-call")[-1]["payload"]["code"] == "replayed"
    ws.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-15T10:02+04:00")  # the plan gate opens
    result = ws.run("decide", str(signed), now="2025-06-15T10:05+04:00")
    assert_refused(ws, result, "already-decided", "the prepare gate (attempt 1) was already decided: approved")


@pytest.mark.parametrize(
    ("key_change", "reason"),
    [
        ({"revoked_at": "2025-06-15T10:00:00+04:00"}, "revoked at 2025-06-15T10:00:00+04:00"),
        ({"valid_from": "2025-06-16T00:00:00+04:00"}, "valid from 2025-06-16T00:00:00+04:00"),
        ({"valid_until": "2025-06-01T00:00:00+04:00"}, "until 2025-06-01T00:00:00+04:00"),
    ],
    ids=["revoked", "not-yet-valid", "expired"],
)
@pytest.mark.prefect
def test_a_key_not_in_force_signs_nothing(ws: Workspace, key_change: dict[str, str], reason: str) -> None:
    started(ws)
    edit_registry(ws, lambda r: r["approvers"][0]["keys"][0].update(key_change))
    result = ws.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-15T11:00+04:00")
    assert_refused(ws, result, "key-not-in-force", reason)


@pytest.mark.prefect
def test_rotated_keys_old_refused_new_accepted(ws: Workspace) -> None:
    started(ws)
    old = ws.keys["dg.planning"]
    made = ws.run("keys", "new", "dg.planning", "--dir", str(ws.root / "rotated"), now="2025-06-14T09:00+04:00")
    [new_pem] = (ws.root / "rotated").glob("*.pem")
    public = next(line.split("public: ")[1] for line in made.output.splitlines() if "public:" in line)

    def rotate(registry: Any) -> None:
        keys = registry["approvers"][0]["keys"]
        keys[0]["valid_until"] = "2025-06-15T00:00:00+04:00"
        keys.append({"id": "dg.planning-2", "public": public, "valid_from": "2025-06-14T00:00:00+04:00"})

    edit_registry(ws, rotate)
    refused = ws.run(
        "approve",
        CAMPAIGN,
        "prepare",
        "--as",
        "dg.planning",
        "--key",
        str(old),
        "--no-advance",
        now="2025-06-15T10:00+04:00",
    )
    assert_refused(ws, refused, "key-not-in-force", "not in force")
    accepted = ws.run(
        "approve",
        CAMPAIGN,
        "prepare",
        "--as",
        "dg.planning",
        "--key",
        str(new_pem),
        "--no-advance",
        now="2025-06-15T10:01+04:00",
    )
    assert accepted.exit_code == 0, accepted.stderr
    assert len(history_of_registry(ws)) == 2  # the registry before and after the rotation are both on record


def history_of_registry(ws: Workspace) -> list[dict[str, Any]]:
    from musharaka.state.db import session_scope
    from musharaka.state.events import REGISTRY_CHAIN, events_of, payload_of

    with session_scope() as session:
        return [payload_of(e).model_dump(mode="json") for e in events_of(REGISTRY_CHAIN, session=session)]


@pytest.mark.prefect
def test_a_gate_already_decided_is_refused(ws: Workspace) -> None:
    started(ws)
    late = sign_to_file(
        ws,
        "late.json",
        CAMPAIGN,
        "prepare",
        "--decision",
        "approve",
        *ws.key("dg.planning"),
        now="2025-06-15T10:00+04:00",
    )
    ws.approve(CAMPAIGN, "prepare", "dg.planning", "--no-advance", now="2025-06-15T10:01+04:00")
    result = ws.run("decide", str(late), "--no-advance", now="2025-06-15T10:02+04:00")
    assert_refused(ws, result, "already-decided", "was already decided: approved")


# --- policies -----------------------------------------------------------------------------------

ALL_OF = "    roles: [dg-planning]\n    all_of: [director, legal]\n"


@pytest.mark.prefect
def test_all_of_needs_one_person_from_each_named_role(ws: Workspace) -> None:
    edit_gates(ws, CAMPAIGN, "prepare", ALL_OF)
    started(ws)
    for approver, passed in (
        ("dir.digital", False),
        ("dir.communication", False),
        ("dg.planning", False),
        ("legal.advisor", True),
    ):
        result = ws.approve(CAMPAIGN, "prepare", approver, "--no-advance", now="2025-06-15T10:00+04:00")
        assert result.exit_code == 0, result.stderr
        assert ("gate passed" in result.output) is passed, approver


@pytest.mark.prefect
def test_one_person_fills_one_seat_only(ws: Workspace) -> None:
    edit_gates(ws, CAMPAIGN, "prepare", "    all_of: [dg-planning, approvals-committee]\n")
    started(ws)
    first = ws.approve(CAMPAIGN, "prepare", "dg.planning", "--no-advance", now="2025-06-15T10:00+04:00")
    assert "gate passed" not in first.output  # dg.planning holds both roles but is one person
    second = ws.approve(CAMPAIGN, "prepare", "dir.digital", "--no-advance", now="2025-06-15T10:01+04:00")
    assert "gate passed" in second.output


ESCALATION = "    roles: [dg-planning]\n    escalation: [undersecretary]\n    due_days: 2\n"


@pytest.mark.prefect
def test_escalation_decides_alone_but_only_after_the_due_date(ws: Workspace) -> None:
    edit_gates(ws, CAMPAIGN, "prepare", ESCALATION)
    started(ws, when="2025-06-15T09:00+04:00")  # due at the end of 17 June, Muscat time
    with freeze_time("2025-06-17T19:59:59Z"):
        early = ws.approve(CAMPAIGN, "prepare", "undersecretary", "--no-advance")
    assert_refused(ws, early, "role-not-allowed", "only once it is overdue")
    with freeze_time("2025-06-17T20:00:00Z"):
        overdue = ws.run("gates", "--overdue", "--json")
        [row] = json.loads(overdue.output)
        assert row["late_by"] == "0h 0m" and "undersecretary (escalation)" in row["may_decide"]
        late = ws.approve(CAMPAIGN, "prepare", "undersecretary", "--no-advance")
    assert late.exit_code == 0 and "gate passed" in late.output
    assert history(ws)[-1]["payload"]["capacity"] == "escalation"


@pytest.mark.prefect
def test_working_days_skip_the_omani_week_end(ws: Workspace) -> None:
    edit_gates(ws, CAMPAIGN, "prepare", "    roles: [dg-planning]\n    due_days: 2\n    days: working\n")
    started(ws, when="2025-06-18T09:00+04:00")  # a Wednesday: Thursday, then Sunday after Fri-Sat
    assert gate(ws)["due_at"] == "2025-06-22T20:00:00Z"


@pytest.mark.prefect
def test_working_days_skip_eid_al_adha_and_the_due_date_stays_as_recorded(ws: Workspace) -> None:
    edit_gates(ws, CAMPAIGN, "prepare", "    roles: [dg-planning]\n    due_days: 2\n    days: working\n")
    # the programme's calendar, Oman's: Eid al-Adha Thursday 5 to Sunday 8 June (Friday and Saturday the
    # week-end too); from Wednesday 4 June, Monday 9 is 1 and Tuesday 10 is 2: due at the end of Tuesday
    started(ws, when="2025-06-04T09:00+04:00")
    assert gate(ws)["due_at"] == "2025-06-10T20:00:00Z"
    [begun] = [e for e in history(ws) if e["type"] == "campaign.started"]
    assert begun["payload"]["plan"]["calendar"]["country"] == "OM"  # the calendar is recorded with the plan
    # a day off added once the gate is open does not move its due date: it was fixed when the gate opened
    programme = ws.plans / "programme-2025.yaml"
    holiday = "  holidays: [{on: 2025-06-09, name: {ar: إجازة, en: Extra Eid day}}]\n"
    programme.write_text(programme.read_text(encoding="utf-8").replace("calendar:\n", "calendar:\n" + holiday))
    assert ws.run("validate", str(ws.plans)).exit_code == 0
    assert gate(ws)["due_at"] == "2025-06-10T20:00:00Z"


@pytest.mark.prefect
def test_a_campaign_in_the_uae_counts_its_own_week_end_and_holidays(ws: Workspace) -> None:
    edit_gates(ws, CAMPAIGN, "prepare", "    roles: [dg-planning]\n    due_days: 5\n    days: working\n")
    path = ws.plans / f"campaigns/{CAMPAIGN}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "calendar: {country: AE}\n", encoding="utf-8")
    # Arafah Thursday 5 June, Eid Friday 6 to Sunday 8 (Saturday and Sunday the week-end too); Monday 9 is 1,
    # Friday 13 is 5, a working day in the UAE: due at its end (in Oman, Sunday 15)
    started(ws, when="2025-06-04T09:00+04:00")
    assert gate(ws)["due_at"] == "2025-06-13T20:00:00Z"


def delegate(ws: Workspace, starts: str, ends: str) -> None:
    edit_registry(
        ws,
        lambda r: r.update(
            delegations=[
                {
                    "delegator": "dg.planning",
                    "delegate": "dir.communication",
                    "starts": starts,
                    "ends": ends,
                    "roles": ["dg-planning"],
                    "reason": "annual leave",
                }
            ]
        ),
    )


@pytest.mark.prefect
def test_a_delegate_decides_for_the_delegator_within_the_dates(ws: Workspace) -> None:
    delegate(ws, "2025-06-14T00:00:00+04:00", "2025-06-16T00:00:00+04:00")
    started(ws)
    result = ws.approve(CAMPAIGN, "prepare", "dir.communication", "--no-advance", now="2025-06-15T10:00+04:00")
    assert result.exit_code == 0 and "gate passed" in result.output
    decided = history(ws)[-1]
    assert (decided["payload"]["principal"], decided["payload"]["capacity"]) == ("dg.planning", "delegate")
    assert "approved by dir.communication for dg.planning" in decided["summary"]
    [registry] = history_of_registry(ws)
    assert registry["registry"]["delegations"][0]["reason"] == "annual leave"


@pytest.mark.prefect
def test_a_delegation_outside_its_dates_gives_no_authority(ws: Workspace) -> None:
    delegate(ws, "2025-06-01T00:00:00+04:00", "2025-06-10T00:00:00+04:00")
    started(ws)
    result = ws.approve(CAMPAIGN, "prepare", "dir.communication", "--no-advance", now="2025-06-15T10:00+04:00")
    assert_refused(ws, result, "role-not-allowed", "dir.communication holds roles")


@pytest.mark.prefect
def test_the_delegator_and_the_delegate_count_once(ws: Workspace) -> None:
    edit_gates(ws, CAMPAIGN, "prepare", "    roles: [dg-planning, director]\n    quorum: 2\n")
    delegate(ws, "2025-06-14T00:00:00+04:00", "2025-06-16T00:00:00+04:00")
    edit_registry(ws, lambda r: r["approvers"][2].update(roles=["communication"]))  # only the delegation
    started(ws)
    ws.approve(CAMPAIGN, "prepare", "dg.planning", "--no-advance", now="2025-06-15T10:00+04:00")
    result = ws.approve(CAMPAIGN, "prepare", "dir.communication", "--no-advance", now="2025-06-15T10:01+04:00")
    assert_refused(ws, result, "already-approved", "dg.planning has already approved")


# --- extension ----------------------------------------------------------------------------------


def gpa_in_conduct(ws: Workspace) -> None:
    started(ws, GPA, "2025-04-13T09:00+04:00")
    ws.approve(GPA, "prepare", "dg.planning", now="2025-04-14T09:00+04:00")
    ws.approve(GPA, "plan", "dg.planning", now="2025-04-15T09:00+04:00")


@pytest.mark.prefect
def test_extension_while_the_window_runs_moves_its_close(ws: Workspace) -> None:
    gpa_in_conduct(ws)
    result = ws.run(
        "extend",
        GPA,
        "--closes",
        "2025-09-30",
        "--reason",
        "after the diploma results",
        *ws.key("dg.planning"),
        now="2025-06-25T10:00+04:00",
    )
    assert result.exit_code == 0, result.stderr
    assert "until 1 October 2025, 00:00 (Oman Time)" in ws.run("advance", GPA, now="2025-07-01T09:00+04:00").output
    # an August contribution: outside the planned window, inside the extended one
    row = ws.root / "gpa.csv"
    row.write_text(gpa_row(ws, "2025-08-20T10:00:00+04:00"), encoding="utf-8")
    assert ws.run("submit", GPA, "conduct", str(row), now="2025-08-21T09:00+04:00").exit_code == 0
    extended = [e for e in history(ws, GPA) if e["type"] == "window.extended"]
    assert extended[0]["payload"]["closes"] == "2025-09-30"


def gpa_row(ws: Workspace, when: str) -> str:
    """One valid contribution for the GPA poll, answering every question with its first option."""
    plan = records.load_plan_set().campaigns[GPA]
    answers = []
    for question in plan.instrument:
        if question.type in ("single", "multiple"):
            answers.append(question.options[0].id)
        elif question.type in ("likert", "number"):
            answers.append("3")
        else:
            answers.append("ok")
    header = ",".join(["submitted_at", "channel", "audience", *(q.id for q in plan.instrument)])
    return f"{header}\n{when},{plan.channels[0]},{plan.audiences[0].id},{','.join(answers)}\n"


@pytest.mark.prefect
def test_extension_at_the_conduct_gate_reopens_collection(ws: Workspace) -> None:
    started(ws)
    ws.approve(CAMPAIGN, "prepare", "dg.planning", now="2025-06-16T09:00+04:00")
    ws.approve(CAMPAIGN, "plan", "dg.planning", now="2025-06-17T09:00+04:00")
    ws.run("submit", CAMPAIGN, "conduct", str(ws.write("c.csv", CONTRIBUTIONS)), now="2025-08-15T08:00+04:00")
    ws.run("advance", CAMPAIGN, now="2025-08-15T09:00+04:00")
    result = ws.run(
        "extend",
        CAMPAIGN,
        "--closes",
        "2025-08-31",
        "--reason",
        "too few students",
        *ws.key("dg.planning"),
        now="2025-08-16T09:00+04:00",
    )
    assert result.exit_code == 0, result.stderr
    assert (
        "conduct (attempt 2) waiting" in result.output and "until 1 September 2025, 00:00 (Oman Time)" in result.output
    )
    gates = json.loads(ws.run("gates", "--json").output)
    assert [g["status"] for g in gates if g["stage"] == "conduct"] == ["extended"]


@pytest.mark.prefect
def test_extension_must_move_the_close_later_and_be_allowed(ws: Workspace) -> None:
    gpa_in_conduct(ws)
    earlier = ws.run(
        "extend", GPA, "--closes", "2025-06-20", "--reason", "x", *ws.key("dg.planning"), now="2025-06-10T10:00+04:00"
    )
    assert_refused(ws, earlier, "bad-extension", "after the current 2025-06-30, found 2025-06-20", GPA)
    stranger = ws.run(
        "extend", GPA, "--closes", "2025-09-30", "--reason", "x", *ws.key("legal.advisor"), now="2025-06-10T10:00+04:00"
    )
    assert_refused(ws, stranger, "role-not-allowed", "legal.advisor holds roles", GPA)


# --- overdue and reminders ----------------------------------------------------------------------


@pytest.mark.prefect
def test_reminders_list_each_approvers_open_gates(ws: Workspace) -> None:
    started(ws)
    started(ws, "moheri-2025-q3-video-call", "2025-06-16T09:00+04:00")
    out = ws.root / "reminders"
    result = ws.run("remind", "--out", str(out), now="2025-06-21T09:00+04:00")
    assert result.exit_code == 0, result.stderr
    text = (out / "dg.planning.txt").read_text(encoding="utf-8")
    assert text.index(CAMPAIGN) < text.index("moheri-2025-q3-video-call")  # the overdue one first
    assert "OVERDUE by" in text and f"musharaka review {CAMPAIGN} prepare" in text
    assert not (out / "planning.team.txt").exists()  # the submitter may not decide its own gate


@pytest.mark.prefect
def test_review_shows_what_is_signed(ws: Workspace) -> None:
    started(ws)
    result = ws.run("review", CAMPAIGN, "prepare", now="2025-06-15T10:00+04:00")
    assert result.exit_code == 0, result.stderr
    assert gate(ws)["outputs_digest"] in result.output
    assert re.search(r"prepare-1\.ar\.[0-9a-f]{12}\.html \(ar, ok\)", result.output), result.output
    assert "may decide now  dg.planning" in result.output
