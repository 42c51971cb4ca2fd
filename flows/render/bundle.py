"""Audit bundles: a self-contained folder an auditor verifies offline, with no database.

events.jsonl (the chains, the registry's and the engine keys' included, each event with its signatures),
heads.json, contributions.json (each batch's rows as
`key digest` lines and its quarantined rows), keys.json (every public key each registry version held), documents/,
report.en.html and report.ar.html, and manifest.json: every file's SHA-256, signed with the engine key.
"""

import hashlib
import json
import shutil
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from musharaka.flows.render import documents as rendering
from musharaka.flows.render import locale
from musharaka.flows.views.summaries import summary
from musharaka.state.audit import Batch, Finding, file_reader, heads, row_batches, seal_problem, verify
from musharaka.state.events import (
    ENGINE_CHAIN,
    REGISTRY_CHAIN,
    CampaignStarted,
    PlanRecorded,
    RegistryRecorded,
    StageCompleted,
    as_utc,
    canonical,
    payload_of,
    utc_text,
)
from musharaka.state.seal import engine_fingerprint
from musharaka.state.settings import get_settings
from musharaka.state.signing import engine_key, public_text, sign_bytes, signature_holds
from musharaka.state.tables import CampaignState, Contribution, Event, QuarantinedRow

MANIFEST = "manifest.json"


def _line(event: Event) -> str:
    return canonical(
        {
            "campaign_id": event.campaign_id,
            "seq": event.seq,
            "at": utc_text(event.at),
            "actor": event.actor,
            "type": event.type,
            "payload": event.payload,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
            "engine_key": event.engine_key,
            "engine_signature": event.engine_signature,
            "person_signature": event.person_signature,
        }
    )


def _event(line: str) -> Event:
    data = json.loads(line)
    data["at"] = datetime.fromisoformat(data["at"])
    return Event(**data)


def export(
    folder: Path, campaigns: list[str] | None, *, now: datetime, session: Session, root: str | None = None
) -> int:
    """Write the bundle for `campaigns` (all when None), pinning the registry `root`; returns the events written."""
    chosen = campaigns or list(session.exec(select(CampaignState.campaign_id)))
    query = select(Event).where(col(Event.campaign_id).in_([*chosen, REGISTRY_CHAIN, ENGINE_CHAIN]))
    events = list(session.exec(query.order_by(col(Event.campaign_id), col(Event.seq))))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events.jsonl").write_text("".join(_line(e) + "\n" for e in events), encoding="utf-8")
    (folder / "heads.json").write_text(canonical(heads(events)), encoding="utf-8")
    rows = session.exec(select(Contribution).where(col(Contribution.campaign_id).in_(chosen)))
    held = session.exec(select(QuarantinedRow).where(col(QuarantinedRow.campaign_id).in_(chosen)))
    batches = {
        f"{campaign}:{name}": {"rows": batch.lines, "quarantined": batch.quarantine}
        for campaign, named in row_batches(rows, held).items()
        for name, batch in named.items()
    }
    (folder / "contributions.json").write_text(canonical(batches), encoding="utf-8")
    (folder / "keys.json").write_text(canonical(_keys(events)), encoding="utf-8")
    for event in events:
        payload = payload_of(event)
        if isinstance(payload, StageCompleted):
            for document in payload.documents:
                source = rendering.document_path(document.path)
                target = folder / "documents" / document.path
                target.parent.mkdir(parents=True, exist_ok=True)
                if source.is_file():
                    shutil.copyfile(source, target)
    for lang in rendering.LANGS:
        (folder / f"report.{lang}.html").write_text(_report(events, lang, now), encoding="utf-8")
    _seal(folder, now, root)
    return len(events)


def _keys(events: list[Event]) -> dict[str, list[dict[str, Any]]]:
    keys: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        payload = payload_of(event)
        if isinstance(payload, RegistryRecorded):
            for approver in payload.registry["approvers"]:
                for kind in ("keys", "passkeys"):  # Ed25519 key files, and passkeys made in the browser
                    for key in approver.get(kind, []):
                        entry = {**key, "kind": kind.removesuffix("s"), "registry_digest": payload.registry_digest}
                        keys.setdefault(approver["id"], []).append(entry)
    return keys


def _report(events: list[Event], lang: str, now: datetime) -> str:
    """The event log for people: each event at its time in its campaign's zone (the registry's in the
    programme's), in the report's language."""
    settings = get_settings()
    zones = _zones(events, settings.timezone)
    rows = []
    for e in events:
        what, said = summary(e, lang, zone=zones[e.campaign_id])
        rows.append(
            {
                "campaign": e.campaign_id,
                "seq": e.seq,
                "at": locale.moment(as_utc(e.at), zones[e.campaign_id], lang, digits=settings.digits),
                "actor": e.actor,
                "what": what,
                "said": said,  # what a person wrote, in whatever language they wrote it
                "hash": e.hash[:12],
            }
        )
    template = rendering.environment(settings.templates_dir, lang).get_template("audit_report.html.j2")
    return template.render(
        **rendering.page(lang),
        rows=rows,
        generated=locale.moment(now, settings.timezone, lang, digits=settings.digits),
    )


def _zones(events: list[Event], programme: str) -> dict[str, str]:
    """Each chain's time zone: its campaign plan's as recorded (the last plan recorded), else the programme's."""
    zones: dict[str, str] = {}
    for event in events:
        if event.type in (CampaignStarted.TYPE, PlanRecorded.TYPE):
            plan = json.loads(event.payload)["plan"]
            zones[event.campaign_id] = plan.get("window", {}).get("timezone") or programme
        zones.setdefault(event.campaign_id, programme)
    return zones


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def _seal(folder: Path, now: datetime, root: str | None) -> None:
    key = engine_key(get_settings().engine_key_file)
    body = {
        "created_at": utc_text(now),
        "files": _digests(folder),
        "public_key": public_text(key.public_key()),
        "registry_root": root,  # the registry's pinned first version: the auditor walks the registry from it
    }
    body["signature"] = sign_bytes(key, canonical(body).encode())
    (folder / MANIFEST).write_text(canonical(body), encoding="utf-8")


def zip_bundle(folder: Path, target: Path, top: str) -> None:
    """The bundle in `folder` as one zip file at `target`, its files under the folder `top` (what the service
    downloads); `verify_bundle_file` verifies it as it is."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{top}/{path.relative_to(folder).as_posix()}")


def verify_bundle_file(path: Path, engine: str) -> tuple[list[str], str]:
    """`verify_bundle` of a bundle's folder, or of a zip of one (its files at the top or in one folder)."""
    if path.is_dir():
        return verify_bundle(path, engine)
    if not zipfile.is_zipfile(path):
        return [f"{path}: neither a bundle's folder nor a zip file of one"], ""
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(path) as archive:
        root = Path(scratch).resolve()
        for member in archive.infolist():
            if not (root / member.filename).resolve().is_relative_to(root):
                return [f"{path}: {member.filename} would be written outside the bundle's folder"], ""
        archive.extractall(root)
        entries = list(root.iterdir())
        folder = entries[0] if len(entries) == 1 and entries[0].is_dir() else root
        return verify_bundle(folder, engine)


def verify_bundle(folder: Path, engine: str) -> tuple[list[str], str]:
    """Everything wrong with a bundle, checked with nothing but its own files and the engine key's fingerprint
    the auditor was given; and the key that sealed it."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        signature = manifest.pop("signature")
    except (OSError, ValueError, KeyError) as error:
        return [f"{MANIFEST}: unreadable ({error.__class__.__name__}): the bundle is incomplete or altered"], ""
    public = str(manifest.get("public_key", ""))
    if not signature_holds(public, canonical(manifest).encode(), signature):
        return [f"{MANIFEST}: its signature does not verify: the manifest was altered"], public
    problems = []
    actual = _digests(folder)
    for name in sorted(set(manifest["files"]) | set(actual)):
        if name not in actual:
            problems.append(f"{name}: listed in the manifest but missing")
        elif name not in manifest["files"]:
            problems.append(f"{name}: not in the manifest (added after the bundle was sealed)")
        elif actual[name] != manifest["files"][name]:
            problems.append(f"{name}: its bytes differ from the manifest")
    if problems:
        return problems, public
    root = manifest.get("registry_root")
    if not isinstance(root, str):
        problems.append(f"{MANIFEST}: pins no registry root: the registry's first version cannot be checked")
    events = [_event(line) for line in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines() if line]
    # sealed by the engine key the auditor was given, or by one it rotated to (the bundle holds the `_engine` chain)
    sealed = seal_problem(public, engine, [e for e in events if e.campaign_id == ENGINE_CHAIN])
    if sealed:
        return [f"{MANIFEST}: {sealed}"], public
    batches: dict[str, dict[str, Batch]] = {}
    for name, keys in json.loads((folder / "contributions.json").read_text(encoding="utf-8")).items():
        campaign, batch = name.split(":", 1)
        batches.setdefault(campaign, {})[batch] = Batch(keys["rows"], [], keys["quarantined"])
    # every event must be signed by a key the engine held, starting from the key that sealed the bundle (which the
    # seal check above holds to the fingerprint the auditor was given)
    findings: list[Finding] = verify(
        events,
        engine=engine_fingerprint(public),
        batches=batches,
        document=file_reader(folder / "documents"),
        root=root if isinstance(root, str) else None,
    )
    problems += [str(f) for f in findings]
    stated = {k: tuple(v) for k, v in json.loads((folder / "heads.json").read_text(encoding="utf-8")).items()}
    if stated != heads(events):
        problems.append("heads.json does not match the last event of each chain")
    return problems, public
