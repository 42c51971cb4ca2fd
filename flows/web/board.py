"""The programme board: the year's campaigns by quarter, the half-year KPIs, the UN evidence and the calendar.

Any signed-in person may read these pages (planners use them; approvers and auditors may look). The rows are
`overview.status_rows`, the same rows `musharaka status` prints; the KPIs are `outcomes.kpi_report` (`musharaka
kpis`), the evidence `evidence.evidence` (`musharaka un-evidence`), and the calendar `ics.programme_calendar`
(`musharaka calendar`): the board words what the engine computed and computes nothing of its own.
"""

import calendar as weeks
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_day_names
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, select

from musharaka.flows.engine import records
from musharaka.flows.planfiles.loading import PlanSet
from musharaka.flows.render import ics, locale
from musharaka.flows.render.terms import term
from musharaka.flows.views import evidence, outcomes, overview
from musharaka.flows.web.kit import Kit, Refusal
from musharaka.flows.web.words import Lang, moment, number, pick
from musharaka.stages.calendars import DEFAULT
from musharaka.stages.i18n import N_, words
from musharaka.stages.plans import Calendar, Vocabulary
from musharaka.state.db import session_scope
from musharaka.state.settings import get_settings
from musharaka.state.tables import CampaignState

CLOSING_SOON = 7  # days: a window closing within a week is marked "closing in N days"
STATUSES = ("planned", "pending", "running", "waiting", "failed", "awaiting-gate", "closed", "missed")

# The built-in sectors' names (the UN survey's list); a programme's own sectors are named by its vocabulary.
SECTOR_NAMES: dict[str, str] = {
    "education": N_("Education"),
    "health": N_("Health"),
    "finance": N_("Finance"),
    "social-welfare": N_("Social welfare"),
    "labour": N_("Labour"),
    "environment": N_("Environment"),
    "justice": N_("Justice"),
    "transport": N_("Transport"),
    "housing": N_("Housing"),
    "culture": N_("Culture"),
    "economy": N_("Economy"),
    "other": N_("Other"),
}


@dataclass(frozen=True)
class Waiting:
    person: str
    capacity: str  # role, delegate, escalation


@dataclass(frozen=True)
class BoardRow:
    campaign: str
    title: str  # in the reader's language
    quarter: str
    kind: str
    sector: str
    stage: str | None
    status: str
    detail: str  # what the campaign waits for or lacks, in the reader's language
    window: str  # upcoming, open, closing, extended, closed, missed
    days_left: int | None  # for a window closing soon: whole days until its last day (0: it closes today)
    closes: date
    zone: str
    gate: overview.OpenGate | None
    waiting_for: list[Waiting]


def window_state(row: overview.StatusRow, extended: bool, now: datetime) -> tuple[str, int | None]:
    """The window as the board words it: the engine's upcoming/open/closed, with a missed, extended or closing-soon
    window told apart."""
    if row.status == "missed":
        return "missed", None
    if row.window.state != "open":
        return row.window.state, None
    if extended:
        return "extended", None
    left = (row.window.closes - now.astimezone(ZoneInfo(row.window.timezone)).date()).days
    return ("closing", left) if left < CLOSING_SOON else ("open", None)


def waiting_for(gate: overview.OpenGate | None) -> list[Waiting]:
    """Who may decide the gate now, from `may_decide`'s "person" or "person (capacity)"."""
    found = []
    for entry in gate.may_decide if gate else []:
        person, _, capacity = entry.partition(" (")
        found.append(Waiting(person, capacity.rstrip(")") or "role"))
    return found


def board_rows(plans: PlanSet, year: int, lang: Lang, *, now: datetime, session: Session) -> list[BoardRow]:
    """The year's campaigns as `musharaka status` lists them, with what the board adds: the title in the reader's
    language, the kind and sector, the window's state. The same few queries whatever the number of campaigns."""
    query = select(CampaignState.campaign_id, CampaignState.title_ar, CampaignState.window_extended)
    states = {campaign: (title, extended) for campaign, title, extended in session.exec(query)}
    rows = []
    for row in overview.status_rows(plans, now=now, session=session):
        if not row.quarter.startswith(f"{year}-"):
            continue
        plan = plans.campaigns.get(row.campaign)
        title_ar, extended = states.get(row.campaign, (plan.title.ar if plan else row.title, ""))
        state, left = window_state(row, bool(extended), now)
        rows.append(
            BoardRow(
                campaign=row.campaign,
                title=title_ar if lang == "ar" else row.title,
                quarter=row.quarter,
                kind=plan.kind if plan else "",
                sector=plan.sector if plan else "",
                stage=row.stage,
                status=row.status,
                detail=overview.detail_words(row.detail, row.window.timezone, lang),
                window=state,
                days_left=left,
                closes=row.window.closes,
                zone=row.window.timezone,
                gate=row.gate,
                waiting_for=waiting_for(row.gate),
            )
        )
    return rows


@dataclass(frozen=True)
class Filters:
    quarter: str = ""
    kind: str = ""
    sector: str = ""
    status: str = ""

    def keep(self, row: BoardRow) -> bool:
        return all(
            not wanted or wanted == value
            for wanted, value in (
                (self.quarter, row.quarter),
                (self.kind, row.kind),
                (self.sector, row.sector),
                (self.status, row.status),
            )
        )

    def query(self, year: int) -> str:
        given = {"year": str(year)} | {k: v for k, v in vars(self).items() if v}
        return urlencode(given)


def sector_name(sector: str, lang: Lang, vocabulary: Vocabulary | None = None) -> str:
    if sector in SECTOR_NAMES:
        return words(lang).gettext(SECTOR_NAMES[sector])
    return term(f"sector_{sector}", lang, vocabulary)


def quarter_name(quarter: str, lang: Lang) -> str:
    names = {f"Q{q}": term(f"quarter_Q{q}", lang) for q in range(1, 5)}
    return locale.quarter(quarter, names, lang, digits=get_settings().digits)


def plan_years(plans: PlanSet) -> list[int]:
    """Every year a programme or a campaign's quarter names, in order."""
    found = {p.year for p in plans.programmes} | {int(c.quarter[:4]) for c in plans.campaigns.values()}
    return sorted(found)


def programme_year(plans: PlanSet, now: datetime) -> int:
    """The year the board opens on: this year (in the ministry's zone) when the plans name it, else the latest
    year they name before it (a programme being closed), else the first after it, else this year."""
    this = now.astimezone(ZoneInfo(get_settings().timezone)).year
    years = plan_years(plans)
    before = [y for y in years if y <= this]
    return before[-1] if before else years[0] if years else this


def helpers(lang: Lang) -> dict[str, Callable[..., str]]:
    """What the board's templates call beyond what every page gets (`Kit.page` gives n, when, stage_name, ...).

    Each is kept for the request: a thousand rows name a handful of kinds, sectors and statuses, and their gates
    fall due at the end of a day (`gates.due_at`), so on at most a year's days."""
    return {
        "day": cache(lambda value: locale.day(value, lang, digits=get_settings().digits)),
        "due_when": cache(lambda value, zone: moment(value, zone, lang)),
        "kind_name": cache(lambda kind: term(f"kind_{kind}", lang)),
        "sector_name": cache(lambda sector: sector_name(sector, lang)),
        "status_name": cache(lambda status: term(f"status_{status}", lang)),
        "quarter_name": cache(lambda quarter: quarter_name(quarter, lang)),
        "year_name": lambda year: _digits(str(year), lang),
    }


def fragment_helpers(lang: Lang, names: dict[str, tuple[str, str]]) -> dict[str, Callable[..., str]]:
    """The same as a whole page's, for a live part rendered alone: what `Kit.page` would give, and the board's."""
    return helpers(lang) | {
        "n": lambda value: number(value, lang),
        "stage_name": cache(lambda stage: term(f"stage_{stage}", lang)),
        "capacity": cache(lambda value: term(f"capacity_{value}", lang)),
        "name": lambda who: pick(names.get(who, (who, who)), lang),
    }


def figure(value: float | None, unit: str, lang: Lang) -> str:
    """A KPI figure as the ministry's table writes it: a share as a percentage, a count as a number, — for none."""
    if value is None:
        return "—"
    digits = get_settings().digits
    return (
        locale.percent(value / 100, lang, digits=digits)
        if unit == "percent"
        else locale.number(value, lang, digits=digits)
    )


def half_name(period: str, lang: Lang) -> str:
    """A half-year, `2025-H1`, in words: "First half of 2025" ("النصف الأول من عام 2025")."""
    year, _, half = period.partition("-H")
    said = N_("First half of %(year)s") if half == "1" else N_("Second half of %(year)s")
    return words(lang).gettext(said) % {"year": _digits(year, lang)}


def half_of(now: datetime) -> str:
    local = now.astimezone(ZoneInfo(get_settings().timezone))
    return f"{local.year}-H{1 if local.month <= 6 else 2}"


@dataclass(frozen=True)
class Day:
    on: date
    in_month: bool
    weekend: bool
    holidays: list[str]
    entries: list[tuple[str, str, str]]  # (what: opens, closes, gate; campaign; words)


def month_days(month: date, events: Iterable[Any], cal: Calendar, lang: Lang) -> list[list[Day]]:
    """The month's weeks as the ministry's calendar lays them out (Oman's week starts on Sunday), each day with
    the windows opening and closing, the gates due (from the programme's iCalendar events) and the holidays."""
    import holidays as countries  # as `stages.calendars` does: only the calendar needs it

    public = countries.country_holidays(
        cal.country, years={month.year - 1, month.year, month.year + 1}, language="ar" if lang == "ar" else "en_US"
    )
    days_off = {off.on: getattr(off.name, lang) for off in cal.holidays}
    weekend = {i for i, name in enumerate(weeks.day_name) if name.lower() in cal.weekend} if cal.weekend else None
    entries: dict[date, list[tuple[str, str, str]]] = {}
    for event in events:
        uid = str(event.get("uid"))
        summary = str(event.get("summary"))
        campaign = str(event.get("description")).split("\n", 1)[0]
        if uid.endswith(".window@" + ics.DOMAIN):
            opens, after = event.decoded("dtstart"), event.decoded("dtend")
            title = summary.split(": ", 1)[-1]
            entries.setdefault(opens, []).append(("opens", campaign, title))
            entries.setdefault(after - timedelta(days=1), []).append(("closes", campaign, title))
        else:
            due = event.decoded("dtstart")
            entries.setdefault(due.date(), []).append(("gate", campaign, summary.split(": ", 1)[-1]))
    first_weekday = 6  # Sunday
    grid = []
    for week in weeks.Calendar(first_weekday).monthdatescalendar(month.year, month.month):
        grid.append(
            [
                Day(
                    on=d,
                    in_month=d.month == month.month,
                    weekend=(d.weekday() in weekend) if weekend is not None else public.is_weekend(d),
                    holidays=[*([days_off[d]] if d in days_off else []), *public.get_list(d)],
                    entries=sorted(entries.get(d, []), key=lambda e: ("opens", "gate", "closes").index(e[0])),
                )
                for d in week
            ]
        )
    return grid


def routes(app: FastAPI, kit: Kit) -> None:
    """Add the board pages' routes to `app`."""

    def read(request: Request, year: int | None, filters: Filters, person: str) -> dict[str, Any]:
        """The board's rows for the request's reader, filtered, with the choices of each filter.

        The plans are read once for the whole page: with a plan file per campaign, reading them is a good part
        of the page's time, so the people's names and the reader's duties the page shows come from them too."""
        lang = kit.language(request)
        now = kit.ws.now()
        plans = records.load_plan_set()
        chosen = year or programme_year(plans, now)
        with session_scope() as db:
            every = board_rows(plans, chosen, lang, now=now, session=db)
            me = kit.ws.registry(plans, db).get(person)
        rows = [row for row in every if filters.keep(row)]
        quarters: dict[str, list[BoardRow]] = {}
        for row in rows:
            quarters.setdefault(row.quarter, []).append(row)
        return {
            "year": chosen,
            "years": sorted(set(plan_years(plans)) | {chosen}),
            "rows": rows,
            "quarters": quarters,
            "filters": filters,
            "choices": {
                "quarter": [f"{chosen}-Q{q}" for q in range(1, 5)],
                "kind": sorted({r.kind for r in every if r.kind}),
                "sector": sorted({r.sector for r in every if r.sector}),
                "status": [s for s in STATUSES if s in {r.status for r in every}],
            },
            "names": kit.names_of(plans.registry),  # as every page names people
            "duties": me.duties if me else (),  # as `Kit.duties` reads them
            "live": "/programme/rows?" + filters.query(chosen),
        }

    @app.get("/programme")
    def board(
        request: Request, year: int | None = None, quarter: str = "", kind: str = "", sector: str = "", status: str = ""
    ) -> Response:
        session = kit.signed_in(request)
        lang = kit.language(request)
        context = read(request, year, Filters(quarter, kind, sector, status), session.person or "")
        title = words(lang).gettext("The programme %(year)s") % {"year": _digits(str(context["year"]), lang)}
        return kit.page(request, session, "board.html.j2", title, **context, **helpers(lang), tab="board")

    @app.get("/programme/rows")
    def board_part(
        request: Request, year: int | None = None, quarter: str = "", kind: str = "", sector: str = "", status: str = ""
    ) -> Response:
        """The board's rows alone: the live part the page re-reads when the log moves on."""
        session = kit.signed_in(request)
        lang = kit.language(request)
        context = read(request, year, Filters(quarter, kind, sector, status), session.person or "")
        body = (
            kit.ws.jinja[lang]
            .get_template("board_rows.html.j2")
            .render(lang=lang, **context, **fragment_helpers(lang, context["names"]))
        )
        return HTMLResponse(body)

    @app.get("/programme/kpis")
    def kpis(request: Request, period: str | None = None) -> Response:
        session = kit.signed_in(request)
        lang = kit.language(request)
        now = kit.ws.now()
        plans = records.load_plan_set()
        chosen = period or half_of(now)
        try:
            with session_scope() as db:
                report = outcomes.kpi_report(plans, chosen, now=now, session=db)
        except ValueError:
            raise Refusal("bad-period", 400) from None
        except records.Refused:
            raise Refusal("no-programme", 404) from None
        year = int(chosen[:4])
        periods = [f"{y}-H{h}" for y in (year - 1, year, year + 1) for h in (1, 2)]
        title = words(lang).gettext("Half-yearly KPIs")
        return kit.page(
            request,
            session,
            "board_kpis.html.j2",
            title,
            report=report,
            period=chosen,
            periods=periods,
            half_name=lambda value: half_name(value, lang),
            figure=lambda value, unit: figure(value, unit, lang),
            zone=get_settings().timezone,
            tab="kpis",
            **helpers(lang),
        )

    @app.get("/programme/evidence")
    def un_evidence(request: Request, year: int | None = None) -> Response:
        session = kit.signed_in(request)
        lang = kit.language(request)
        now = kit.ws.now()
        plans = records.load_plan_set()
        chosen = year or programme_year(plans, now)
        with session_scope() as db:
            levels = evidence.evidence(evidence.campaign_facts(plans, now=now, session=db), chosen)
        vocabulary = plans.programmes[0].vocabulary if plans.programmes else None
        title = words(lang).gettext("UN e-participation evidence")
        return kit.page(
            request,
            session,
            "board_evidence.html.j2",
            title,
            levels=levels,
            year=chosen,
            level_name=lambda level: term(f"level_{level}", lang),
            sector_label=lambda sector: sector_name(sector, lang, vocabulary),
            tab="evidence",
            **{k: v for k, v in helpers(lang).items() if k != "sector_name"},
        )

    @app.get("/programme/calendar")
    def month_view(request: Request, month: str | None = None) -> Response:
        session = kit.signed_in(request)
        lang = kit.language(request)
        now = kit.ws.now()
        try:
            shown = (
                date.fromisoformat(f"{month}-01")
                if month
                else now.astimezone(ZoneInfo(get_settings().timezone)).date().replace(day=1)
            )
        except ValueError:
            raise Refusal("bad-month", 400) from None
        plans = records.load_plan_set()
        with session_scope() as db:
            events = list(ics.programme_calendar(plans, lang=lang, now=now, session=db).walk("VEVENT"))
        cal = (plans.programmes[0].calendar if plans.programmes else None) or DEFAULT
        grid = month_days(shown, events, cal, lang)
        before = (shown - timedelta(days=1)).replace(day=1)
        after = (shown + timedelta(days=32)).replace(day=1)
        where = locale.LOCALES[lang]
        day_names = get_day_names("wide", locale=where)
        title = words(lang).gettext("Calendar")
        return kit.page(
            request,
            session,
            "calendar.html.j2",
            title,
            grid=grid,
            month_name=_digits(format_date(shown, "LLLL y", locale=where), lang),
            before=(before.strftime("%Y-%m"), _digits(format_date(before, "LLLL y", locale=where), lang)),
            after=(after.strftime("%Y-%m"), _digits(format_date(after, "LLLL y", locale=where), lang)),
            day_names=[day_names[(6 + i) % 7] for i in range(7)],  # Sunday first
            month=shown.strftime("%Y-%m"),
            tab="calendar",
            **helpers(lang),
        )

    @app.get("/programme/calendar.ics")
    def calendar_file(request: Request, lang: str | None = None) -> Response:
        kit.signed_in(request)
        chosen = lang if lang in ("ar", "en") else kit.language(request)
        plans = records.load_plan_set()
        with session_scope() as db:
            data = ics.programme_calendar(plans, lang=chosen, now=kit.ws.now(), session=db).to_ical()
        return Response(
            data,
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="programme.{chosen}.ics"'},
        )


def _digits(text: str, lang: Lang) -> str:
    """A text Babel wrote, in the digits the service writes numbers in."""
    return locale._written(text, lang, get_settings().digits)
