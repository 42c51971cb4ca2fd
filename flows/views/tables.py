"""The CLI's tables (`status`, `gates`, `history`, `kpis`) in the reader's language.

Times are in the campaign's zone (the programme's for the KPI report), written for the language, with the zone
named. An Arabic table is laid out for a terminal that implements the Unicode bidirectional algorithm (Konsole,
mlterm, GNOME Terminal with BiDi on): each line opens with a right-to-left mark, so it runs right to left and
the first column stands at the right; each cell is an isolate, so an id or a digest in it reads left to right
and never reorders its neighbours; columns are padded to the width the terminal gives them (an Arabic vowel
mark takes none). English tables are as they always were, left to right.
"""

from datetime import datetime
from typing import TYPE_CHECKING

from babel.dates import format_timedelta
from wcwidth import wcswidth

from musharaka.flows.render import locale
from musharaka.flows.render.terms import term
from musharaka.flows.views.overview import GateRow, HistoryEntry, OpenGate, StatusRow, detail_words, needs
from musharaka.stages.i18n import N_, words
from musharaka.state.settings import get_settings

if TYPE_CHECKING:  # the KPI report's module loads the measures; `status` and `gates` do without
    from musharaka.flows.views.outcomes import KpiReport

_RLM, _FSI, _PDI = "\u200f", "\u2068", "\u2069"


def width(text: str) -> int:
    shown = wcswidth(text)
    return shown if shown >= 0 else len(text)  # a control character: count it as written


def table(headers: list[str], rows: list[list[str]], lang: str, *, right: frozenset[int] = frozenset()) -> str:
    """Columns padded to their widest cell (the last is not padded); `right`: columns of numbers, which end
    aligned in English."""
    every = [headers, *rows]
    widths = [max(width(row[i]) for row in every) for i in range(len(headers))]
    lines = []
    for row in every:
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - width(cell)) if i < len(row) - 1 else ""
            text = f"{_FSI}{cell}{_PDI}" if lang == "ar" else cell
            cells.append(pad + text if i in right and lang == "en" else text + pad)
        line = "  ".join(cells).rstrip()
        lines.append(_RLM + line if lang == "ar" else line)
    return "\n".join(lines)


def _n(value: float, lang: str) -> str:
    return locale.number(value, lang, digits=get_settings().digits)


def _when(value: datetime, zone: str, lang: str) -> str:
    return locale.moment(value, zone, lang, digits=get_settings().digits).strip("\u2067\u2069")


def _stage(stage: str | None, lang: str) -> str:
    if stage is None:
        return "-"
    return term(f"stage_{stage}", lang) if lang == "ar" else stage


def _late(gate: OpenGate, now: datetime, lang: str) -> str:
    if lang == "en":
        return gate.late_by
    return format_timedelta(now - gate.due_at, granularity="hour", threshold=1.5, locale=locale.LOCALES[lang])


def _gate(gate: OpenGate, zone: str, now: datetime, lang: str) -> str:
    t = words(lang)
    line = t.gettext("gate %(stage)s: approved by %(count)s, needs %(needs)s, due %(due)s") % {
        "stage": _stage(gate.stage, lang),
        "count": _n(len(gate.approvals), lang),
        "needs": needs(gate, lang),
        "due": _when(gate.due_at, zone, lang),
    }
    return line + (t.gettext(" OVERDUE by %(late)s") % {"late": _late(gate, now, lang)} if gate.overdue else "")


def status_table(rows: list[StatusRow], now: datetime, lang: str = "en") -> str:
    t = words(lang)
    headers = [
        t.gettext(h)
        for h in (N_("campaign"), N_("quarter"), N_("stage"), N_("att"), N_("status"), N_("window"), N_("next"))
    ]
    body = []
    for row in rows:
        window = row.window
        if lang == "ar":
            days = f"{locale.day(window.opens, lang)} – {locale.day(window.closes, lang)}"
            shown = f"{days}، {term('window_' + window.state, lang)}"
        else:
            shown = f"{window.opens}..{window.closes} {window.state}"
        body.append(
            [
                row.campaign,
                locale.quarter(row.quarter, {f"Q{q}": term(f"quarter_Q{q}", lang) for q in range(1, 5)}, lang)
                if lang == "ar"
                else row.quarter,
                _stage(row.stage, lang),
                _n(row.attempt, lang) if row.attempt else "-",
                term(f"status_{row.status}", lang) if lang == "ar" or row.status == "failed" else row.status,
                shown,
                _gate(row.gate, window.timezone, now, lang)
                if row.gate
                else detail_words(row.detail, window.timezone, lang),
            ]
        )
    return table(headers, body, lang, right=frozenset({3}))


def gates_table(rows: list[GateRow], now: datetime, lang: str = "en") -> str:
    t = words(lang)
    headers = [
        t.gettext(h)
        for h in (N_("campaign"), N_("stage"), N_("att"), N_("status"), N_("needs"), N_("approved by"), N_("due"))
    ]
    body = []
    for row in rows:
        due = _when(row.due_at, row.timezone, lang)
        if row.overdue:
            due += t.gettext(" OVERDUE by %(late)s") % {"late": _late(row, now, lang)}
        if row.may_decide:
            due += "  " + t.gettext("may decide: %(who)s") % {"who": ", ".join(row.may_decide)}
        body.append(
            [
                row.campaign,
                _stage(row.stage, lang),
                _n(row.attempt, lang),
                term(f"gate_{row.status}", lang) if lang == "ar" else row.status,
                needs(row, lang),
                ", ".join(row.approvals) or "-",
                due,
            ]
        )
    return table(headers, body, lang, right=frozenset({2}))


def history_table(entries: list[HistoryEntry], zone: str, lang: str = "en") -> str:
    """One line an event: its number, its time in the campaign's zone, who, what, and its hash."""
    t = words(lang)
    headers = [t.gettext(h) for h in (N_("#"), N_("when"), N_("who"), N_("event"), N_("hash"), N_("what"))]
    body = [
        [
            _n(e.seq, lang),
            _when(e.at, zone, lang),
            term(f"actor_{e.actor}", lang)
            if lang == "ar" and e.actor in ("engine", "service", "operator")
            else e.actor,
            e.type,
            e.hash[:12],
            e.summary,
        ]
        for e in entries
    ]
    return table(headers, body, lang, right=frozenset({0}))


def kpis_table(report: "KpiReport", lang: str = "en") -> str:
    """The half-year's indicators (target, actual, gap), then the programme's status, in the programme's zone."""
    t = words(lang)
    indicators = table(
        [t.gettext("#"), t.gettext("indicator"), t.gettext("target"), t.gettext("actual"), t.gettext("gap")],
        [
            [_n(k.number, lang), getattr(k.name, lang), k.target_text, k.actual_text, k.gap_text]
            for k in report.indicators
        ],
        lang,
        right=frozenset({2, 3, 4}),
    )
    quarters = {f"Q{q}": term(f"quarter_Q{q}", lang) for q in range(1, 5)}
    status = table(
        [t.gettext("quarter"), t.gettext("topic"), t.gettext("status")],
        [
            [
                locale.quarter(line.quarter, quarters, lang) if lang == "ar" else line.quarter,
                getattr(line.topic, lang),
                getattr(line.status, lang),
            ]
            for line in report.status
        ],
        lang,
    )
    as_of = _when(report.status_as_of, get_settings().timezone, lang)
    # a programme's own indicator without a value says why, under the table
    reasons = [f"{_n(k.number, lang)}: {getattr(k.reason, lang)}" for k in report.indicators if k.reason is not None]
    return "\n".join(
        [
            f"{getattr(report.title, lang)} — {report.period}",
            indicators,
            *reasons,
            "",
            t.gettext("Programme status as of %(when)s:") % {"when": as_of},
            status,
        ]
    )
