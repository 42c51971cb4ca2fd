"""The programme as an iCalendar file (RFC 5545), for the calendar planners already use.

Each campaign's participation window is an all-day event over its local dates (the signed
extension's closing date once one is recorded); each open gate is an event at its due instant, in
the campaign's zone, naming who may decide. UIDs depend only on the campaign (and the gate's stage
and attempt), so importing a newer file updates the events instead of adding copies; SEQUENCE
grows with each extension so calendars take the newer window.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from sqlmodel import Session, select

from musharaka.flows.planfiles.loading import PlanSet
from musharaka.flows.render.terms import term
from musharaka.flows.views import overview
from musharaka.stages.i18n import words
from musharaka.state.events import WindowExtended, as_utc, events_of, payload_of
from musharaka.state.registry import in_force_if_any
from musharaka.state.tables import CampaignState, Gate

PRODID = "-//Musharaka//e-participation programme//EN"
DOMAIN = "musharaka"


@dataclass(frozen=True)
class WindowEntry:
    campaign: str
    title: str
    opens: date
    closes: date
    planned_closes: date
    zone: str
    extensions: tuple[WindowExtended, ...]


def _windows(plans: PlanSet, lang: str, now: datetime, *, session: Session) -> list[WindowEntry]:
    """Started campaigns with their recorded windows and extensions; planned ones from their plan files."""
    entries = []
    started = {c.campaign_id: c for c in session.exec(select(CampaignState))}
    for campaign_id, state in started.items():
        extensions = tuple(
            p
            for e in events_of(campaign_id, session=session)
            if as_utc(e.at) <= now and isinstance(p := payload_of(e), WindowExtended)
        )
        entries.append(
            WindowEntry(
                campaign=campaign_id,
                title=state.title_ar if lang == "ar" else state.title_en,
                opens=date.fromisoformat(state.window_opens),
                closes=extensions[-1].closes if extensions else date.fromisoformat(state.window_closes),
                planned_closes=date.fromisoformat(state.window_closes),
                zone=state.timezone,
                extensions=extensions,
            )
        )
    for plan in plans.campaigns.values():
        if plan.id not in started:
            entries.append(
                WindowEntry(
                    campaign=plan.id,
                    title=getattr(plan.title, lang),
                    opens=plan.window.opens,
                    closes=plan.window.closes,
                    planned_closes=plan.window.closes,
                    zone=plan.window.timezone,
                    extensions=(),
                )
            )
    return sorted(entries, key=lambda w: (w.opens, w.campaign))


def programme_calendar(plans: PlanSet, *, lang: str, now: datetime, session: Session) -> icalendar.Calendar:
    """The calendar: one all-day event per campaign window, one timed event per open gate."""
    _ = words(lang).gettext
    window_word, gate_word, attempt_word = _("Participation window"), _("Gate due"), _("attempt")
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Musharaka" if lang == "en" else "مشاركة")
    for window in _windows(plans, lang, now, session=session):
        event = icalendar.Event()
        event.add("uid", f"{window.campaign}.window@{DOMAIN}")
        event.add("dtstamp", now)
        event.add("sequence", len(window.extensions))
        event.add("summary", f"{window_word}: {window.title}")
        event.add("dtstart", window.opens)
        event.add("dtend", window.closes + timedelta(days=1))  # DTEND of an all-day event is exclusive
        event.add("transp", "TRANSPARENT")
        lines = [window.campaign, _("Dates are in the campaign's time zone, %(zone)s.") % {"zone": window.zone}]
        was = window.planned_closes
        for extension in window.extensions:
            lines.append(
                _("extended from %(was)s to %(now)s by a signed decision of %(who)s: %(why)s")
                % {"was": was, "now": extension.closes, "who": extension.approver, "why": extension.reason}
            )
            was = extension.closes
        event.add("description", "\n".join(lines))
        event.add("x-musharaka-timezone", window.zone)
        calendar.add_component(event)
    titles = {
        c.campaign_id: (c.title_ar if lang == "ar" else c.title_en, c.timezone)
        for c in session.exec(select(CampaignState))
    }
    registry = in_force_if_any(plans.registry, session=session)
    for gate in session.exec(select(Gate).where(Gate.status == "open")):
        title, zone = titles[gate.campaign_id]
        stage = term(f"stage_{gate.stage}", lang) if lang == "ar" else gate.stage
        view = overview.gate_view(gate, now, session=session, registry=registry)
        event = icalendar.Event()
        event.add("uid", f"{gate.campaign_id}.{gate.stage}.{gate.attempt}.gate@{DOMAIN}")
        event.add("dtstamp", now)
        event.add("summary", f"{gate_word}: {title} — {stage} ({attempt_word} {gate.attempt})")
        due = as_utc(gate.due_at).astimezone(ZoneInfo(zone))
        event.add("dtstart", due)
        event.add("dtend", due)
        who = ", ".join(view.may_decide) or _("nobody in the registry can decide it now")
        event.add(
            "description",
            "\n".join(
                [
                    gate.campaign_id,
                    _("May decide: %(who)s") % {"who": who},
                    _("Needs: %(policy)s") % {"policy": overview.needs(view)},
                ]
            ),
        )
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar
