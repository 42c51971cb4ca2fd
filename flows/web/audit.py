"""The auditor's view: every campaign and its timeline, a campaign as it stood at any instant, the log's
verification, a signed checkpoint to take away, and a campaign's audit bundle to download.

An auditor reads everything and changes nothing: every route here reads, but the checkpoint, which signs the
chains' heads and records nothing. Each calls what the CLI's `audit` and `replay` commands call, so the
answers are the same as at the terminal.
"""

import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlmodel import Session, col, select

from musharaka.flows.engine import governance, records
from musharaka.flows.render import bundle, locale
from musharaka.flows.render.reasons import finding
from musharaka.flows.render.terms import term
from musharaka.flows.views.overview import detail_words
from musharaka.flows.views.summaries import summary
from musharaka.flows.web.auth import WebSession
from musharaka.flows.web.kit import Kit, Refusal
from musharaka.flows.web.words import Lang
from musharaka.stages.i18n import N_, words
from musharaka.state.audit import Finding, file_reader, signed_checkpoint, verify_database
from musharaka.state.db import session_scope
from musharaka.state.events import as_utc, events_of
from musharaka.state.replay import campaign_at
from musharaka.state.seal import local_fingerprint
from musharaka.state.settings import get_settings
from musharaka.state.signing import KeyFileError, engine_key
from musharaka.state.tables import CampaignState

# events that carry a person's signed decision: a gate's, a window's extension, a withdrawal of contributions
SIGNED = ("gate.decided", "window.extended", "contributions.withdrawn")

# the log's actors that are no person of the registry
MACHINES: dict[str, str] = {"engine": N_("The engine"), "service": N_("The service")}


@dataclass(frozen=True)
class Entry:
    """One event of a campaign's timeline, as the auditor reads it."""

    seq: int
    at: datetime
    actor: str
    line: str  # what happened, in the reader's language
    said: str  # why, as the person wrote it
    signed: bool  # a person's signed decision
    verified: bool  # the chain holds up to and including it


@dataclass(frozen=True)
class Verification:
    findings: list[Finding]
    events: int
    chains: int


def routes(app: FastAPI, kit: Kit) -> None:
    """Add the audit pages' routes to `app`."""

    def auditor(request: Request) -> WebSession:
        return kit.requires(kit.signed_in(request), "auditor")

    def fingerprint() -> str | None:
        """The engine key's fingerprint, for the auditor to compare with the one the operator filed with them."""
        try:
            return local_fingerprint(get_settings().engine_key_file)
        except KeyFileError:
            return None

    def verification(campaign: str | None, db: Session, *, everything: bool = True) -> Verification:
        """`musharaka audit verify [--campaign ID]`: the local engine key as the trusted one, as the CLI takes it
        when no --engine is given; with `everything`, contributions and documents too."""
        document = file_reader(get_settings().output_dir) if everything else None
        root = governance.read_root()
        found, events, chains = verify_database(
            db, campaign, document=document, root=root, engine=fingerprint(), contributions=everything
        )
        return Verification(found, events, chains)

    def campaign_of(campaign_id: str, db: Session) -> CampaignState:
        try:
            return records.campaign_state(campaign_id, session=db)
        except records.Refused:
            raise Refusal("unknown-campaign", 404) from None

    def worded(found: Finding, lang: Lang) -> tuple[Markup, bool]:
        """What is wrong with the event, in the reader's language (`reasons.finding`); where the engine's words
        are not known there, they are given marked as its own, and False."""
        said = finding(found.what, lang)
        return said.html, said.ours

    @app.get("/audit")
    def overview(request: Request) -> Response:
        session = auditor(request)
        with session_scope() as db:
            campaigns = list(db.exec(select(CampaignState).order_by(col(CampaignState.campaign_id))))
        return kit.page(
            request,
            session,
            "audit.html.j2",
            words(kit.language(request)).gettext("Audit"),
            campaigns=campaigns,
            fingerprint=fingerprint(),
            status_name=lambda status: term(f"status_{status}", kit.language(request)),
        )

    @app.get("/audit/verify")
    def verify(request: Request, campaign: str | None = None) -> Response:
        session = auditor(request)
        lang = kit.language(request)
        with session_scope() as db:
            state = campaign_of(campaign, db) if campaign else None
            result = verification(campaign, db)
        title = words(lang).gettext("Verification of the log")
        return kit.page(
            request,
            session,
            "audit_verify.html.j2",
            title,
            campaign=state,
            result=result,
            problems=[(f, *worded(f, lang)) for f in result.findings],
            fingerprint=fingerprint(),
        )

    @app.get("/audit/campaigns/{campaign_id}")
    def timeline(request: Request, campaign_id: str, at: str | None = None) -> Response:
        session = auditor(request)
        lang = kit.language(request)
        with session_scope() as db:
            state = campaign_of(campaign_id, db)
            zone = state.timezone
            instant = instant_of(at, zone) if at else None
            result = verification(campaign_id, db, everything=False)
            events = events_of(campaign_id, session=db)
            view = campaign_at(campaign_id, instant, session=db) if instant else None
        own = [f for f in result.findings if f.campaign == campaign_id]
        # a break in the registry's or the engine's chain leaves no decision it carries verified
        broken = own[0].seq if own else (0 if result.findings else None)
        entries = []
        for event in events:
            if instant is not None and as_utc(event.at) > instant:
                break  # the log is in time order within a chain
            line, said = summary(event, lang, zone=zone)
            entries.append(
                Entry(
                    seq=event.seq,
                    at=as_utc(event.at),
                    actor=event.actor,
                    line=line,
                    said=said,
                    signed=event.type in SIGNED,
                    verified=broken is None or event.seq < broken,
                )
            )
        return kit.page(
            request,
            session,
            "audit_campaign.html.j2",
            state.title_ar if lang == "ar" else state.title_en,
            campaign=state,
            entries=entries,
            problem=next(iter(own or result.findings), None),
            worded=lambda f: worded(f, lang),
            at=instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if instant else "",
            instant=instant,
            view=view,
            detail=detail_words(view.detail, zone, lang) if view else "",
            term=lambda key: term(key, lang),
            day=lambda text: locale.day(date.fromisoformat(text), lang, digits=get_settings().digits),
            machines={actor: words(lang).gettext(said) for actor, said in MACHINES.items()},
            fingerprint=fingerprint(),
        )

    @app.get("/audit/campaigns/{campaign_id}/bundle.zip")
    def bundle_zip(request: Request, campaign_id: str) -> Response:
        auditor(request)
        now = kit.ws.now()
        with tempfile.TemporaryDirectory() as scratch:
            folder, target = Path(scratch) / "bundle", Path(scratch) / "bundle.zip"
            with session_scope() as db:
                campaign_of(campaign_id, db)
                bundle.export(folder, [campaign_id], now=now, session=db, root=governance.read_root())
            name = f"{campaign_id}-bundle-{now:%Y%m%dT%H%MZ}"
            bundle.zip_bundle(folder, target, name)
            data = target.read_bytes()
        return Response(
            data, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}.zip"'}
        )

    @app.post("/audit/checkpoint")
    async def checkpoint(request: Request) -> Response:
        form = await request.form()
        session = kit.checked(request, str(form.get("csrf", "")))
        kit.requires(session, "auditor")
        now = kit.ws.now()
        key = engine_key(get_settings().engine_key_file)
        with session_scope() as db:
            signed = signed_checkpoint(key, events_of(session=db), governance.read_root() or "", now)
        return Response(
            signed.model_dump_json(indent=2) + "\n",
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="checkpoint-{now:%Y%m%dT%H%M%SZ}.json"'},
        )


def instant_of(text: str, zone: str) -> datetime:
    """The picker's local date and time, in the campaign's zone (an offset given is kept), in UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Refusal("bad-instant", 400) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    return as_utc(value)
