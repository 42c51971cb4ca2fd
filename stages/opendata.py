"""A closed campaign's results as open data: the tables of a Frictionless data package, and its descriptor.

Pure: it takes what the log holds of the campaign (`Facts`) and returns CSV tables with their Table Schemas.
What it leaves out is the point of it:

- no personal data: no participant, no contributor id, no time of a single contribution; the staff who
  acted are named by role only;
- no participant's own words (text answers, the terms they used) unless the plan's `open_data.free_text`
  allows them, and even then e-mail addresses and phone or id numbers in them are blanked;
- no answers of a small group: in the cross-tabulations by audience or segment, a group of fewer than
  `open_data.min_group` respondents is shown without its answers. Its answers could otherwise be worked
  out as the question's total less the other groups', so when the groups held back are together still
  fewer than `min_group`, the next smallest groups are held back too, until they are not (or all are).
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from musharaka.stages import analyse, conduct
from musharaka.stages.common import StageModel
from musharaka.stages.datapackage import (
    TIME_FORMAT,
    Cell,
    Column,
    ForeignKey,
    Table,
    bilingual,
    column,
    joined,
    resource,
)
from musharaka.stages.i18n import N_
from musharaka.stages.plans import LICENCES, Bilingual, OpenDataSection, Prose

# Blanked in participants' words, when they may be published: what looks like an e-mail address, and a run
# of seven or more digits with at most three spaces, dots, dashes or brackets between two of them (a phone or
# an id number, however it is spaced); a range of two years (2025 - 2026, 1445-1446) is kept.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"\+?\d(?:[\s.()\-\u2013]{0,3}\d){6,}")
_YEARS = re.compile(r"(?:19|20|13|14)\d\d\s*[-\u2013]\s*(?:19|20|13|14)\d\d")
BLANKED = "[…]"


class Update(StageModel):
    """A follow-up update of the decision, without who reported it."""

    at: datetime
    status: str
    percent: int
    note: str
    evidence: str | None


class Facts(StageModel):
    """What the log holds of a closed campaign, as far as it may be published."""

    campaign: str
    title: Bilingual
    kind: str
    level: str
    sector: str
    publisher: Bilingual | None  # the ministry, from the programme
    opens: date
    closes: date  # the last day of the window, extensions included
    timezone: str
    closed_at: datetime
    decided_at: datetime  # the analyse gate's approval
    analysis: analyse.Outputs
    participation: conduct.Outputs  # counts per channel, audience and day; the indicators
    updates: tuple[Update, ...]
    audiences: dict[str, Bilingual]
    channels: dict[str, Bilingual]
    approver_roles: tuple[str, ...]  # the analyse gate's roles: who took the decision, as roles
    policy: OpenDataSection
    texts: tuple[tuple[str, str], ...] = ()  # (question id, answer): given only when the policy allows
    log_events: int
    log_head: str  # the hash of the campaign's last event
    analysis_digest: str  # the digest of the analysis outputs the decision's approvers signed


QUESTION = column("question", "string", N_("The question's id in the campaign's plan."), True)
LABEL_EN = column("label_en", "string", N_("Its name in English."))
LABEL_AR = column("label_ar", "string", N_("Its name in Arabic."))
OPTION = column("option", "string", N_("The option's id in the plan, or the point of a rating scale."), True)
RESPONDENTS = column("respondents", "integer", N_("Respondents who chose it."))
BY = column("by", "string", N_("What the respondents are grouped by: audience, or a segment field of the plan."), True)
GROUP = column("group", "string", N_("The group: an audience's id or a segment's value (empty: not given)."), True)


def in_both(name: str, english: str, arabic: str) -> tuple[Column, Column]:
    """A text's two columns, `<name>_en` and `<name>_ar`."""
    return column(f"{name}_en", "string", english), column(f"{name}_ar", "string", arabic)


def _both(text: Bilingual | Prose | None) -> tuple[str, str]:
    return ("", "") if text is None else (text.en or "", text.ar or "")


def blanked(text: str) -> str:
    """A participant's words with e-mail addresses and phone or id numbers blanked."""

    def number(found: re.Match[str]) -> str:
        return found[0] if _YEARS.fullmatch(found[0]) else BLANKED

    return _NUMBER.sub(number, _EMAIL.sub(BLANKED, text)).strip()


def held_back(respondents: Mapping[str, int], min_group: int) -> set[str]:
    """The groups whose answers are not shown: those smaller than `min_group`, and then the next smallest until
    the groups held back together reach it, so that none can be worked out from the total by subtraction."""
    held = {g for g, n in respondents.items() if n < min_group}
    if held and sum(respondents[g] for g in held) < min_group:
        for group in sorted(set(respondents) - held, key=lambda g: (respondents[g], g)):
            held.add(group)
            if sum(respondents[g] for g in held) >= min_group:
                break
    return held


def _questions(results: Sequence[analyse.QuestionResult]) -> Table:
    rows = []
    for position, r in enumerate(results, start=1):
        mean = r.mean_interval
        top2 = r.top2_interval
        rows.append(
            (
                r.id,
                position,
                r.type,
                *_both(r.title),
                r.answered,
                r.mean,
                mean.low if mean else None,
                mean.high if mean else None,
                r.top2,
                top2.low if top2 else None,
                top2.high if top2 else None,
            )
        )
    columns = (
        QUESTION,
        column("position", "integer", N_("Its place in the questionnaire."), True),
        column("type", "string", N_("single, multiple, likert, number, text or ballot."), True),
        *in_both("title", N_("The question as asked, in English."), N_("The question as asked, in Arabic.")),
        column("answered", "integer", N_("Contributions that answered it."), True),
        column("mean", "number", N_("The mean answer (rating scales and numbers).")),
        column("mean_low", "number", N_("The lower end of the mean's 95% t-interval.")),
        column("mean_high", "number", N_("The upper end of the mean's 95% t-interval.")),
        column("top2", "number", N_("The share answering one of the two highest points of a rating scale (0-1).")),
        column("top2_low", "number", N_("The lower end of that share's 95% Wilson interval.")),
        column("top2_high", "number", N_("The upper end of that share's 95% Wilson interval.")),
    )
    return Table(
        "questions",
        N_("The questions"),
        N_("Each question of the campaign: how many answered it, and its mean where it has one."),
        columns,
        tuple(rows),
        ("question",),
    )


def _answers(results: Sequence[analyse.QuestionResult]) -> Table:
    rows = tuple(
        (r.id, option, *_both(r.labels.get(option)), count, r.shares.get(option))
        for r in results
        for option, count in r.counts.items()
    )
    share = column("share", "number", N_("Their share of those who answered the question (0-1)."))
    return Table(
        "answers",
        N_("Answers per option"),
        N_("Respondents per question and option (per point of a rating scale), as the analysis counted them."),
        (QUESTION, OPTION, LABEL_EN, LABEL_AR, RESPONDENTS, share),
        rows,
        ("question", "option"),
        (ForeignKey(("question",), "questions", ("question",)),),
    )


def _groups_and_crosstabs(facts: Facts) -> tuple[Table, Table]:
    groups: list[tuple[Cell, ...]] = []
    cells: list[tuple[Cell, ...]] = []
    for r in facts.analysis.results:
        for tab in r.crosstabs:
            held = held_back(tab.respondents, facts.policy.min_group)
            for group in tab.counts:
                shown = group not in held
                names = facts.audiences.get(group) if tab.by == "audience" else None
                groups.append(
                    (
                        r.id,
                        tab.by,
                        group,
                        *_both(names),
                        tab.respondents.get(group, 0) if shown else None,
                        tab.means.get(group) if shown else None,
                        not shown,
                    )
                )
                if shown:
                    cells += [(r.id, tab.by, group, option, n) for option, n in tab.counts[group].items()]
    key = ("question", "by", "group")
    group_table = Table(
        "groups",
        N_("Groups"),
        N_("Respondents per question and group (audience, segment), and their mean; a small group's are held back."),
        (
            QUESTION,
            BY,
            GROUP,
            LABEL_EN,
            LABEL_AR,
            column("respondents", "integer", N_("Respondents of the group who answered (empty when held back).")),
            column("mean", "number", N_("The group's mean answer, for rating scales (empty when held back).")),
            column(
                "held_back", "boolean", N_("True when the group's answers are not shown: too few respondents."), True
            ),
        ),
        tuple(groups),
        key,
        (ForeignKey(("question",), "questions", ("question",)),),
    )
    crosstab = Table(
        "crosstabs",
        N_("Answers by group"),
        N_("Respondents per question, group and option; groups held back have no rows."),
        (QUESTION, BY, GROUP, OPTION, RESPONDENTS),
        tuple(cells),
        (*key, "option"),
        (ForeignKey(key, "groups", key), ForeignKey(("question", "option"), "answers", ("question", "option"))),
    )
    return group_table, crosstab


def _participation(facts: Facts) -> Table:
    held = facts.participation
    rows: list[tuple[Cell, ...]] = []
    rows += [("channel", c, *_both(facts.channels.get(c)), n) for c, n in held.by_channel.items()]
    rows += [("audience", a, *_both(facts.audiences.get(a)), n) for a, n in held.by_audience.items()]
    rows += [("day", d, d, d, n) for d, n in held.by_day.items()]
    if held.session is not None:
        rows += [("attendance", a, *_both(facts.audiences.get(a)), n) for a, n in held.session.attendance.items()]
    return Table(
        "participation",
        N_("Participation"),
        N_("Contributions per channel, audience and day (in the campaign's zone); a session's attendance."),
        (
            column("dimension", "string", N_("channel, audience, day, or attendance (a dialogue session's)."), True),
            column("value", "string", N_("The channel's or audience's id, or the day (YYYY-MM-DD)."), True),
            LABEL_EN,
            LABEL_AR,
            column("contributions", "integer", N_("Contributions counted (people, for attendance)."), True),
        ),
        tuple(rows),
        ("dimension", "value"),
    )


def _kpis(facts: Facts) -> Table:
    return Table(
        "kpis",
        N_("Indicators"),
        N_("The campaign's indicators: target, actual and the share of the target reached."),
        (
            column("kpi", "string", N_("The indicator's id in the plan."), True),
            *in_both("name", N_("Its name in English."), N_("Its name in Arabic.")),
            column("target", "number", N_("The target."), True),
            column("actual", "number", N_("What was reached."), True),
            column("share", "number", N_("Actual over target (1 = target met)."), True),
        ),
        tuple((k.id, *_both(k.name), k.target, k.actual, k.share) for k in facts.participation.kpis),
        ("kpi",),
    )


def _decision(facts: Facts) -> tuple[Table, Table]:
    decision = facts.analysis.decision
    row = (
        facts.campaign,
        *_both(decision.summary),
        *_both(decision.rationale),
        *_both(decision.not_adopted),
        decision.based_on_contributions,
        facts.analysis.decision_method,
        *_both(decision.expected_impact),
        facts.analysis.total,
        facts.decided_at,
    )
    table = Table(
        "decision",
        N_("The decision"),
        N_("The decision taken on the contributions, its reasons, and what could not be adopted."),
        (
            column("campaign", "string", N_("The campaign's id."), True),
            *in_both("summary", N_("What was decided, in English."), N_("What was decided, in Arabic.")),
            *in_both("rationale", N_("Why, in English."), N_("Why, in Arabic.")),
            *in_both(
                "not_adopted",
                N_("Why not every opinion could be adopted, in English."),
                N_("Why not every opinion could be adopted, in Arabic."),
            ),
            column(
                "based_on_contributions", "boolean", N_("Whether the decision was based on the contributions."), True
            ),
            column("decision_method", "string", N_("public-vote, or agency-decides taking the opinions into account.")),
            *in_both("expected_impact", N_("The expected impact, in English."), N_("The expected impact, in Arabic.")),
            column("participants", "integer", N_("Contributions the decision was taken on."), True),
            column("approved_at", "datetime", N_("When management approved the decision (UTC)."), True),
        ),
        (row,),
        ("campaign",),
    )
    impacts = Table(
        "decision_impacts",
        N_("The decision's impact per group"),
        N_("What the decision changes for each audience, as the decision states it."),
        (
            column("audience", "string", N_("The audience's id in the plan."), True),
            LABEL_EN,
            LABEL_AR,
            *in_both(
                "impact", N_("The impact on the audience, in English."), N_("The impact on the audience, in Arabic.")
            ),
        ),
        tuple((i.audience, *_both(facts.audiences.get(i.audience)), *_both(i.impact)) for i in decision.impact),
        (),  # a decision may say more than one thing of an audience
    )
    return table, impacts


def _updates(facts: Facts) -> Table:
    return Table(
        "updates",
        N_("Follow-up updates"),
        N_("How far the decision has been carried out: each update the ministry recorded, oldest first."),
        (
            column("update", "integer", N_("The update's number, from 1."), True),
            column("at", "datetime", N_("When it was recorded (UTC)."), True),
            column("status", "string", N_("planned, in-progress, implemented or dropped."), True),
            column("percent", "integer", N_("How far the work is, 0-100."), True),
            column("note", "string", N_("What was done; for dropped, the reason.")),
            column("evidence", "string", N_("A link to evidence, when one was given.")),
        ),
        tuple((n, u.at, u.status, u.percent, u.note, u.evidence) for n, u in enumerate(facts.updates, start=1)),
        ("update",),
    )


def _themes(facts: Facts) -> Table:
    rows = tuple(
        (t.id, theme, *_both(t.theme_names.get(theme)), n)
        for t in facts.analysis.texts
        for theme, n in t.themes.items()
    )
    return Table(
        "themes",
        N_("Themes of the comments"),
        N_("Per text question, the answers mentioning each theme of the plan (any of its keywords)."),
        (
            QUESTION,
            column("theme", "string", N_("The theme's id in the plan."), True),
            LABEL_EN,
            LABEL_AR,
            column("answers", "integer", N_("Answers mentioning it."), True),
        ),
        rows,
        ("question", "theme"),
        (ForeignKey(("question",), "questions", ("question",)),),
    )


def _words_tables(facts: Facts) -> list[Table]:
    """Participants' own words, aggregated: each distinct answer with how many gave it, and the frequent terms."""
    said: dict[tuple[str, str], int] = {}
    for question, answer in facts.texts:
        text = blanked(answer)
        if text:
            said[question, text] = said.get((question, text), 0) + 1
    terms = [
        (t.id, lang, term, n)
        for t in facts.analysis.texts
        for lang, found in (("ar", t.terms_ar), ("en", t.terms_en))
        for term, n in found.items()
    ]
    on_question = (ForeignKey(("question",), "questions", ("question",)),)
    return [
        Table(
            "comments",
            N_("Comments"),
            N_("Each distinct text answer, in alphabetical order, with how many gave it; e-mails and numbers blanked."),
            (
                QUESTION,
                column(
                    "text",
                    "string",
                    N_("The answer as written, e-mail addresses and phone or id numbers blanked."),
                    True,
                ),
                column("answers", "integer", N_("Answers giving this text."), True),
            ),
            tuple((q, text, n) for (q, text), n in sorted(said.items())),
            ("question", "text"),
            on_question,
        ),
        Table(
            "terms",
            N_("Frequent terms"),
            N_("The terms used most in the text answers, per language, with the answers using each."),
            (
                QUESTION,
                column("language", "string", N_("ar or en."), True),
                column("term", "string", N_("The term, in the spelling used most."), True),
                column("answers", "integer", N_("Answers using it."), True),
            ),
            tuple(terms),
            ("question", "language", "term"),
            on_question,
        ),
    ]


def _vote(vote: analyse.VoteResult) -> Table:
    return Table(
        "vote",
        N_("The vote's outcome"),
        N_("The vote's outcome: votes cast, turnout and the winner (the tally per option is in answers)."),
        (
            QUESTION,
            column("cast", "integer", N_("Votes cast."), True),
            column("eligible", "integer", N_("People entitled to vote: the turnout's base.")),
            column("turnout", "number", N_("Votes cast over eligible (0-1).")),
            column("winner", "string", N_("The winning option's id (empty: a tie declared).")),
            column("tied", "string", N_("The options tied for first place, separated by spaces.")),
            column("tie_rule", "string", N_("declare, plan-order or lot."), True),
            column("lot_seed", "string", N_("Under the lot rule, the draw's seed (see the campaign's analysis).")),
        ),
        (
            (
                vote.question,
                vote.cast,
                vote.eligible,
                vote.turnout,
                vote.winner,
                " ".join(vote.tied),
                vote.tie_rule,
                vote.lot_seed,
            ),
        ),
        ("question",),
        (ForeignKey(("question",), "questions", ("question",)),),
    )


def _projects(budget: analyse.BudgetResult) -> Table:
    funded = set(budget.outcome)
    return Table(
        "projects",
        N_("Projects"),
        N_("Each project of the participatory budget: cost, support, and whether the plan's rule funds it."),
        (
            column("project", "string", N_("The project's id in the plan."), True),
            LABEL_EN,
            LABEL_AR,
            column("area", "string", N_("The budget area it belongs to.")),
            column("cost", "number", N_("Its cost, in the budget's currency."), True),
            column("supporters", "integer", N_("Ballots that include it."), True),
            column("points", "number", N_("Points given to it."), True),
            column("funded", "boolean", N_("Whether the plan's rule funds it."), True),
        ),
        tuple((p.id, *_both(p.label), p.area, p.cost, p.supporters, p.points, p.id in funded) for p in budget.projects),
        ("project",),
    )


def tables(facts: Facts) -> tuple[Table, ...]:
    """Every table of the campaign's package, in the order a reader meets them."""
    analysis = facts.analysis
    found = [*_decision(facts), _updates(facts), _kpis(facts), _participation(facts)]
    found += [_questions(analysis.results), _answers(analysis.results), *_groups_and_crosstabs(facts)]
    if analysis.vote is not None:
        found.append(_vote(analysis.vote))
    if analysis.budget is not None:
        found.append(_projects(analysis.budget))
    if analysis.texts:
        found.append(_themes(facts))
        if facts.policy.free_text:
            found += _words_tables(facts)
    return tuple(found)


def descriptor(facts: Facts, found: Iterable[tuple[Table, bytes]]) -> dict[str, Any]:
    """The package's `datapackage.json`: what it is, under which licence, for which period, each file with its
    schema, size and SHA-256."""
    licence = facts.policy.licence
    title, path = LICENCES[licence]
    contributors = [{"title": joined(bilingual(N_("The campaign team")), " — "), "role": "author"}]
    roles = ", ".join(facts.approver_roles)
    approvers = bilingual(N_("Approvers of the decision, by role: %(roles)s"))
    contributors.append(
        {"title": f"{approvers.en % {'roles': roles}} — {approvers.ar % {'roles': roles}}", "role": "contributor"}
    )
    if facts.publisher is not None:
        contributors.append({"title": joined(facts.publisher, " — "), "role": "publisher"})
    log = bilingual(N_("The campaign's event log: %(events)s events, the last with the hash %(hash)s"))
    signed = bilingual(N_("The analysis the decision's approvers signed, SHA-256 %(digest)s"))
    figures = {"events": facts.log_events, "hash": facts.log_head, "digest": facts.analysis_digest}
    summary = bilingual(
        N_(
            "The aggregated results, decision, follow-up and indicators of the e-participation campaign "
            "\u201c%(title)s\u201d, open %(opens)s to %(closes)s (%(zone)s). No personal data."
        )
    )
    words_of = {"opens": facts.opens.isoformat(), "closes": facts.closes.isoformat(), "zone": facts.timezone}
    return {
        "profile": "tabular-data-package",
        "name": facts.campaign,
        "title": joined(facts.title, " — "),
        "description": f"{summary.en % {**words_of, 'title': facts.title.en}}\n\n"
        f"{summary.ar % {**words_of, 'title': facts.title.ar}}",
        "created": max([facts.closed_at, *(u.at for u in facts.updates)]).astimezone(UTC).strftime(TIME_FORMAT),
        "keywords": ["e-participation", facts.kind, facts.level, facts.sector],
        "licenses": [{"name": licence, "path": path, "title": title}],
        "temporal": {"start": facts.opens.isoformat(), "end": facts.closes.isoformat()},
        "contributors": contributors,
        "sources": [
            {"title": joined(Bilingual(en=log.en % figures, ar=log.ar % figures), " — ")},
            {"title": joined(Bilingual(en=signed.en % figures, ar=signed.ar % figures), " — ")},
        ],
        "resources": [resource(table, data) for table, data in found],
    }
