"""A campaign plan's and a programme's own rules beyond their schemas: ids used once, ingestion and analysis
that fit the plan's questions, calendars of known countries. Each problem is a field path and a message.
"""

import difflib
from collections.abc import Iterable

from pydantic import BaseModel

from musharaka.stages.calendars import calendar_problems
from musharaka.stages.communication import plan_problems as communication_problems
from musharaka.stages.formulas import FormulaError, parse
from musharaka.stages.kpis import BUILT_IN, FIGURES
from musharaka.stages.plans import (
    CHANNELS,
    SECTORS,
    TOOLS,
    Calendar,
    CampaignPlan,
    Language,
    Loc,
    Prose,
    Question,
    Term,
    Vocabulary,
)
from musharaka.stages.programme import Programme, quarter_bounds
from musharaka.stages.risks import risk_problems

_BUILT_IN: dict[str, tuple[str, ...]] = {"channels": CHANNELS, "tools": TOOLS, "sectors": SECTORS}


def campaign_problems(plan: CampaignPlan) -> list[tuple[Loc, str]]:
    """Rules that span fields of one plan, each as (location, what was expected and found)."""
    problems: list[tuple[Loc, str]] = []
    if plan.window.closes < plan.window.opens:
        problems.append(
            (
                ("window", "closes"),
                f"expected a closing date on or after the opening {plan.window.opens}, found {plan.window.closes}",
            )
        )
    first, last = quarter_bounds(plan.quarter)
    if not first <= plan.window.opens <= last:
        problems.append(
            (
                ("window", "opens"),
                f"expected an opening date within {plan.quarter} ({first} to {last}), found {plan.window.opens}",
            )
        )
    if not plan.instrument:
        problems.append((("instrument",), f"expected at least one question for a {plan.kind} campaign, found none"))
    problems += _session_problems(plan)
    problems += _duplicates(plan.audiences, ("audiences",))
    problems += _duplicates(plan.instrument, ("instrument",))
    problems += _duplicates(plan.kpis, ("kpis",))
    audience_ids = {a.id for a in plan.audiences}
    for i, question in enumerate(plan.instrument):
        loc: Loc = ("instrument", i)
        problems += _duplicates(question.options, (*loc, "options"))
        if question.type in ("single", "multiple", "ballot") and not question.options:
            problems.append(((*loc, "options"), f"expected options for a {question.type} question, found none"))
        if question.type not in ("single", "multiple", "ballot") and question.options:
            problems.append(((*loc, "options"), f"expected no options for a {question.type} question"))
    problems += _ingest_problems(plan)
    problems += _analysis_problems(plan)
    problems += _calendar_problems(plan.calendar)
    problems += own_vocabulary_problems(plan.vocabulary, ("vocabulary",))
    problems += risk_problems(plan)
    problems += _duplicates(plan.communication, ("communication",))
    problems += communication_problems(plan)
    for i, kpi in enumerate(plan.kpis):
        if kpi.measure == "audience-contributions" and kpi.audience not in audience_ids:
            problems.append(
                (
                    ("kpis", i, "audience"),
                    f"expected one of the campaign's audiences {sorted(audience_ids)}, found {kpi.audience!r}",
                )
            )
        if kpi.measure == "channel-contributions" and kpi.channel not in plan.channels:
            problems.append(
                (
                    ("kpis", i, "channel"),
                    f"expected one of the campaign's channels {list(plan.channels)}, found {kpi.channel!r}",
                )
            )
    return problems


def _session_problems(plan: CampaignPlan) -> list[tuple[Loc, str]]:
    """A dialogue session says when and where it is held, on a day of the participation window."""
    if plan.kind == "dialogue-session" and plan.session is None:
        return [(("session",), "expected the session's date, start time and venue (`session: {on, starts, venue}`)")]
    if plan.session is not None and not plan.window.opens <= plan.session.on <= plan.window.closes:
        window = f"{plan.window.opens} to {plan.window.closes}"
        return [(("session", "on"), f"expected a day within the window {window}, found {plan.session.on}")]
    return []


def programme_problems(programme: Programme) -> list[tuple[Loc, str]]:
    """A programme's rules beyond its schema, each as (location, what was expected and found)."""
    problems = _calendar_problems(programme.calendar)
    problems += own_vocabulary_problems(programme.vocabulary, ("vocabulary",))
    problems += _duplicates(programme.indicators, ("indicators",))
    for i, indicator in enumerate(programme.indicators):
        loc: Loc = ("indicators", i, "formula")
        if indicator.formula is None:
            continue
        if indicator.id in BUILT_IN:
            problems.append((loc, f"expected no formula on {indicator.id!r}, which the engine measures itself"))
            continue
        try:
            formula = parse(indicator.formula)
        except FormulaError as error:
            problems.append((loc, str(error)))
            continue
        for name in formula.names():
            if name not in FIGURES:
                problems.append(
                    (loc, f"expected a figure of {sorted(FIGURES)}{_did_you_mean(name, FIGURES)}, found {name!r}")
                )
    return problems


def own_vocabulary_problems(vocabulary: Vocabulary | None, loc: Loc) -> list[tuple[Loc, str]]:
    """A vocabulary's ids are new: each once, and none a built-in id (whose names the engine has)."""
    problems: list[tuple[Loc, str]] = []
    for kind, built_in in _BUILT_IN.items():
        terms: tuple[Term, ...] = getattr(vocabulary, kind) if vocabulary else ()
        problems += _duplicates(terms, (*loc, kind))
        for i, term in enumerate(terms):
            if term.id in built_in:
                problems.append(
                    ((*loc, kind, i, "id"), f"expected an id that is not built in, found {term.id!r}, which is")
                )
    return problems


def vocabulary_problems(plan: CampaignPlan) -> list[tuple[Loc, str]]:
    """The plan's channels, tools and sector: built-in ones, or named by its vocabulary (the programme's included)."""
    own = plan.vocabulary or Vocabulary()
    known = {kind: (*built_in, *(t.id for t in getattr(own, kind))) for kind, built_in in _BUILT_IN.items()}
    used: list[tuple[Loc, str, str]] = [
        *((("channels", i), value, "channels") for i, value in enumerate(plan.channels)),
        *((("tools", i), value, "tools") for i, value in enumerate(plan.tools)),
        (("sector",), plan.sector, "sectors"),
        *(
            (("communication", i, "channels", j), value, "channels")
            for i, message in enumerate(plan.communication)
            for j, value in enumerate(message.channels)
        ),
    ]
    problems: list[tuple[Loc, str]] = []
    for loc, value, kind in used:
        if value not in known[kind]:
            word = kind.rstrip("s")
            problems.append(
                (
                    loc,
                    f"expected a built-in {word} or one the programme's vocabulary names"
                    f"{_did_you_mean(value, known[kind])}, found {value!r}",
                )
            )
    return problems


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _calendar_problems(calendar: Calendar | None) -> list[tuple[Loc, str]]:
    return [(("calendar", *loc), message) for loc, message in calendar_problems(calendar)] if calendar else []


def _ingest_problems(plan: CampaignPlan) -> list[tuple[Loc, str]]:
    """The ingest section must name the plan's own channels, audiences and questions."""
    ingest = plan.ingest
    problems: list[tuple[Loc, str]] = []
    audience_ids = sorted(a.id for a in plan.audiences)
    questions = {q.id: q for q in plan.instrument}
    if ingest.channel is not None and ingest.channel not in plan.channels:
        problems.append(
            (
                ("ingest", "channel"),
                f"expected one of the campaign's channels {list(plan.channels)}, found {ingest.channel!r}",
            )
        )
    if ingest.audience is not None and ingest.audience not in audience_ids:
        problems.append(
            (("ingest", "audience"), f"expected one of the audiences {audience_ids}, found {ingest.audience!r}")
        )
    if ingest.audience is not None and ingest.audience_question is not None:
        problems.append(
            (("ingest", "audience_question"), "expected either `audience` or `audience_question`, found both")
        )
    if ingest.audience_question is not None:
        question = questions.get(ingest.audience_question)
        if question is None or question.type != "single":
            problems.append(
                (
                    ("ingest", "audience_question"),
                    f"expected the id of a single-choice question, found {ingest.audience_question!r}",
                )
            )
        else:
            strays = sorted({o.id for o in question.options} - set(audience_ids))
            if strays:
                problems.append(
                    (
                        ("ingest", "audience_question"),
                        f"expected options that are audience ids {audience_ids}, found {strays}",
                    )
                )
    problems += _duplicates(ingest.segments, ("ingest", "segments"))
    for i, question in enumerate(plan.instrument):
        if question.type != "number" and (question.minimum is not None or question.maximum is not None):
            problems.append(
                ((("instrument", i, "minimum")), f"expected a range only on a number question, found {question.type}")
            )
        if question.minimum is not None and question.maximum is not None and question.maximum < question.minimum:
            problems.append(
                (
                    ("instrument", i, "maximum"),
                    f"expected at least the minimum {question.minimum}, found {question.maximum}",
                )
            )
    return problems


def _duplicates(items: tuple[BaseModel, ...], loc: Loc) -> list[tuple[Loc, str]]:
    seen: set[str] = set()
    problems: list[tuple[Loc, str]] = []
    for i, item in enumerate(items):
        item_id = getattr(item, "id", None)
        if item_id is None:
            continue
        if item_id in seen:
            problems.append(((*loc, i, "id"), f"expected a unique id, found {item_id!r} again"))
        seen.add(item_id)
    return problems


def _analysis_problems(plan: CampaignPlan) -> list[tuple[Loc, str]]:
    """The analysis section must name the plan's own questions, of the types its figures need."""
    analysis = plan.analysis
    questions: dict[str, Question] = {}
    for question in plan.instrument:  # a repeated id is reported once, as a duplicate, not here again
        questions.setdefault(question.id, question)
    problems: list[tuple[Loc, str]] = []

    def expect(loc: Loc, qid: str, types: tuple[str, ...]) -> Question | None:
        question = questions.get(qid)
        wanted = " or ".join(types)
        if question is None:
            close = difflib.get_close_matches(qid, sorted(questions), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append((loc, f"expected the id of a {wanted} question of the instrument{hint}, found {qid!r}"))
        elif question.type not in types:
            problems.append((loc, f"expected a {wanted} question, found {qid!r} of type {question.type}"))
            return None
        return question

    for i, qid in enumerate(analysis.satisfaction):
        expect(("analysis", "satisfaction", i), qid, ("likert",))
    if analysis.vote is not None:
        expect(("analysis", "vote", "question"), analysis.vote.question, ("single",))
    if analysis.budget is not None:
        ballot = expect(("analysis", "budget", "question"), analysis.budget.question, ("ballot",))
        rule = analysis.budget
        areas = [a.id for a in rule.areas]
        for j, option in enumerate(ballot.options if ballot else ()):
            if option.cost is None:
                problems.append(
                    (("analysis", "budget", "question"), f"expected a cost for project {option.id!r} (option {j})")
                )
            if areas and option.area not in areas:
                problems.append(
                    (
                        ("instrument", rule.question, "options", j, "area"),
                        f"expected one of the budget's areas {areas}, found {option.area!r}",
                    )
                )
        projects = {o.id for o in ballot.options} if ballot else set()
        for g, group in enumerate(rule.exclusive):
            unknown = [p for p in group if p not in projects]
            if unknown:
                problems.append(
                    (
                        ("analysis", "budget", "exclusive", g),
                        f"expected projects of the ballot {sorted(projects)}, found {unknown}",
                    )
                )
        if rule.rule == "greedy-threshold" and rule.threshold <= 0:
            problems.append((("analysis", "budget", "threshold"), "expected a threshold above 0, found none"))
        if rule.rule == "greedy-exclusive" and not rule.exclusive:
            problems.append((("analysis", "budget", "exclusive"), "expected groups of exclusive projects, found none"))
        if len(set(areas)) != len(areas):
            problems.append((("analysis", "budget", "areas"), f"expected each area once, found {areas}"))
    if plan.kind == "vote" and analysis.vote is None:
        problems.append((("analysis", "vote"), "expected the vote question and tie rule of a vote campaign"))
    if plan.kind == "participatory-budget" and analysis.budget is None:
        problems.append((("analysis", "budget"), "expected the ballot question, total and rule of a budget"))
    fields = {s.id for s in plan.ingest.segments}
    for i, field in enumerate(analysis.segments):
        if field not in fields:
            problems.append(
                (
                    ("analysis", "segments", i),
                    f"expected a segment field of ingest.segments {sorted(fields)}, found {field!r}",
                )
            )
    return problems


def untranslated(model: BaseModel) -> list[tuple[Loc, Language]]:
    """Every prose of a plan or a submission given in one language only, with the language it lacks."""
    return _untranslated(model, ())


def _untranslated(value: object, loc: Loc) -> list[tuple[Loc, Language]]:
    if isinstance(value, Prose):
        return [(loc, lang) for lang in value.missing()]
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        return [found for name in fields for found in _untranslated(getattr(value, name), (*loc, name))]
    if isinstance(value, tuple | list):
        return [found for i, item in enumerate(value) for found in _untranslated(item, (*loc, i))]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _untranslated(item, (*loc, str(key)))]
    return []
