"""The engine's reasons in the reader's language.

The engine words its reasons in English, for the terminal and the log: a quarantined row's `expected one of the
audiences [...]`, a plan file's `expected this key, found it missing`, a refusal's `campaign x is closed`. A page
shows them in its reader's language. Each kind of reason has a table here of the patterns the engine writes, each
with a catalogue message (the English is the message id) whose named placeholders take the values the engine
named: ids, numbers, dates and lists are kept exactly as written, each in a `<bdi dir="ltr">`; a stage's name is
given in the reader's words. A reason that no pattern matches is shown as the engine wrote it, marked as its
words, never dropped. The terminal and the log keep the engine's English: nothing here changes what is recorded.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from musharaka.flows.planfiles.reading import Problem
from musharaka.flows.render.terms import term
from musharaka.stages.i18n import N_, words


@dataclass(frozen=True)
class Pattern:
    """One way the engine words a reason: `regex` matches the whole of it, its named groups the values."""

    regex: re.Pattern[str]
    message: str  # English, with a %(name)s for each named group
    terms: Mapping[str, str] = field(default_factory=dict)  # group -> the prefix of its `term` key ("stage_")
    given: Mapping[str, str] = field(default_factory=dict)  # values the engine's words hold fixed (an example)


def pattern(regex: str, message: str, *, terms: dict[str, str] | None = None, **given: str) -> Pattern:
    return Pattern(re.compile(regex, re.DOTALL), message, terms or {}, given)


@dataclass(frozen=True)
class Said:
    """A reason as a page shows it; `ours` is False when no pattern matched and `html` is the engine's words."""

    html: Markup
    ours: bool

    def __html__(self) -> str:
        return str(self.html)


def plain(html: str) -> str:
    """A reason as plain text (for a script's `textContent`): each value isolated by Unicode's own marks."""
    isolated = re.sub(r"<bdi[^>]*>", "\u2068", str(html)).replace("</bdi>", "\u2069")
    return Markup(isolated).striptags()


def value(text: str) -> Markup:
    """A value the engine named, kept as written and isolated from the sentence around it."""
    return Markup('<bdi dir="ltr">{}</bdi>').format(text)


def engine_words(text: str, lang: str) -> Markup:
    """A reason no pattern knows: the engine's English, marked as such on a page in another language."""
    if lang == "en":
        return Markup(escape(text))
    label = words(lang).gettext("In the engine's words:")
    return Markup('{} <bdi dir="ltr" lang="en" class="engine">{}</bdi>').format(label, text)


def say(text: str, patterns: Sequence[Pattern], lang: str) -> Said:
    """`text` in `lang` by the first pattern that matches it whole; else the engine's words, marked."""
    text = text.strip()
    for known in patterns:
        found = known.regex.fullmatch(text)
        if found is None:
            continue
        values = {
            name: Markup("<bdi>{}</bdi>").format(term(known.terms[name] + given, lang))
            if name in known.terms
            else value(given)
            for name, given in {**known.given, **found.groupdict()}.items()
        }
        return Said(Markup(escape(words(lang).gettext(known.message))) % values, True)
    return Said(engine_words(text, lang), False)


# --- a quarantined row's reasons -------------------------------------------------------------------------------

_BOUND = r"(?P<{}>-?[\d.e+-]+?)(?:\.0)?"

# What a row was expected to hold (flows.ingest.answers, flows.ingest.contributions), after `expected `: the page
# shows what was expected and never what was found, which is the participant's own cell.
QUARANTINE = (
    pattern(r"one of the audiences (?P<ids>\[.*\])", N_("one of the audiences %(ids)s")),
    pattern(r"one of (?P<ids>\[.*\])", N_("one of %(ids)s")),
    pattern(r"options among (?P<ids>\[.*\])", N_("options among %(ids)s")),
    pattern(r"projects among (?P<ids>\[.*\])", N_("projects among %(ids)s")),
    pattern(r"a number", N_("a number")),
    pattern(r"points as a number", N_("points as a number")),
    pattern(r"a whole number from 1 to (?P<scale>\d+)", N_("a whole number from 1 to %(scale)s")),
    # a plan's bounds are read as decimals: 18 is written 18.0, and shown as 18
    pattern(rf"a number from None to {_BOUND.format('high')}", N_("a number no greater than %(high)s")),
    pattern(rf"a number from {_BOUND.format('low')} to None", N_("a number no less than %(low)s")),
    pattern(
        rf"a number from {_BOUND.format('low')} to {_BOUND.format('high')}", N_("a number from %(low)s to %(high)s")
    ),
    pattern(r"at most (?P<most>\d+) projects on a ballot", N_("at most %(most)s projects on one ballot")),
    pattern(
        r"at most (?P<most>\d+) projects? of the area (?P<area>\S+) on a ballot",
        N_("at most %(most)s projects of the area %(area)s on one ballot"),
    ),
    pattern(r"an answer \(the question is required\)", N_("an answer: the question is required")),
    pattern(r"a date and time \((?P<form>.*)\)", N_("a date and time, written as %(form)s")),
    pattern(
        r"a time inside the participation window (?P<opens>\S+) to (?P<closes>\S+) \((?P<zone>[^)]*)\)",
        N_("a time inside the participation window, %(opens)s to %(closes)s (%(zone)s time)"),
    ),
)
# the fields a reason names that are no question's id (those are kept: they are the plan's own ids)
FIELDS = {"channel": N_("Channel"), "audience": N_("Audience")}


def quarantine_reason(reason: str, lang: str) -> tuple[Markup, Said]:
    """A quarantined row's reason, `field: expected …, found …`, as (the field, what was expected): the cell it
    found is the participant's and is left out."""
    where, _, rest = reason.partition(": ")
    expected = rest.split(", found ", 1)[0]
    field_name = words(lang).gettext(FIELDS[where]) if where in FIELDS else value(where)
    if not expected.startswith("expected "):
        return Markup(escape(field_name)), Said(engine_words(rest or reason, lang), False)
    return Markup(escape(field_name)), say(expected.removeprefix("expected "), QUARANTINE, lang)


# --- a plan file's problems ------------------------------------------------------------------------------------

# What a plan file was expected to hold (flows.planfiles.reading, stages.checks, flows.planfiles.loading), after
# `expected `.
_ANY = r"'[^']*'(?:, '[^']*')*(?: or '[^']*')?"
EXPECTED = (
    pattern(r"this key", N_("this key")),
    pattern(
        rf"one of (?P<options>{_ANY}) \(did you mean (?P<close>'[^']*')\?\)",
        N_("one of %(options)s (did you mean %(close)s?)"),
    ),
    pattern(rf"one of (?P<options>{_ANY})", N_("one of %(options)s")),
    pattern(r"a quarter like 2025-Q3", N_("a quarter such as %(example)s"), example="2025-Q3"),
    pattern(
        r"an id of lower-case letters, digits, '\.', '_' or '-'",
        N_("an id of lower-case Latin letters, digits, '.', '_' or '-'"),
    ),
    pattern(
        r"a currency code of three capital letters \(ISO 4217\), such as (?P<example>\w+)",
        N_("a currency code of three capital letters (%(standard)s), such as %(example)s"),
        standard="ISO 4217",
    ),
    pattern(
        r"a two-letter country code such as (?P<one>\w+) or (?P<two>\w+)",
        N_("a two-letter country code such as %(one)s or %(two)s"),
    ),
    pattern(r"a valid integer.*", N_("a whole number")),
    pattern(r"a valid number.*", N_("a number")),
    pattern(r"a valid string", N_("a text")),
    pattern(r"a valid (?:list|tuple)", N_("a list")),
    pattern(r"a valid dictionary.*", N_("a mapping of keys")),
    pattern(r"a valid boolean.*", N_("%(yes)s or %(no)s"), yes="true", no="false"),
    pattern(r"a valid date.*", N_("a date such as %(example)s"), example="2025-07-06"),
    pattern(r"greater than or equal to (?P<least>-?[\d.]+)", N_("a number greater than or equal to %(least)s")),
    pattern(r"a text", N_("a text")),
    pattern(r"a campaign plan", N_("a campaign plan")),
    pattern(r"a campaign plan in UTF-8 text", N_("a campaign plan in %(encoding)s text"), encoding="UTF-8"),
    pattern(r"a campaign plan \(a mapping of keys\)", N_("a campaign plan: a mapping of keys")),
    pattern(r"a time zone name such as (?P<zone>\S+)", N_("a time zone name such as %(zone)s")),
    pattern(
        r"a closing date on or after the opening (?P<opens>\S+)",
        N_("a closing date on or after the opening, %(opens)s"),
    ),
    pattern(
        r"an opening date within (?P<quarter>\S+) \((?P<first>\S+) to (?P<last>\S+)\)",
        N_("an opening date within %(quarter)s (%(first)s to %(last)s)"),
    ),
    pattern(
        r"a person in (?P<registry>\S+)(?: \(did you mean (?P<close>'[^']*')\?\))?",
        N_("a person of the people registry %(registry)s"),
    ),
    pattern(r"a unique id", N_("an id used once")),
    pattern(r"one campaign plan", N_("one campaign plan")),
    pattern(r"one of the campaign's channels (?P<ids>\[.*\])", N_("one of the campaign's channels %(ids)s")),
    pattern(r"one of the campaign's audiences (?P<ids>\[.*\])", N_("one of the campaign's audiences %(ids)s")),
)
# what a plan file held instead, where the engine says it in words rather than as the value
FOUND = (
    pattern(r"it missing", N_("it is missing")),
    pattern(r"none", N_("none")),
    pattern(r"neither", N_("neither")),
    pattern(r"both", N_("both")),
    pattern(r"an empty file", N_("an empty file")),
    pattern(r"binary data", N_("binary data")),
    pattern(r"an empty string", N_("an empty text")),
    pattern(r"a CommentedSeq", N_("a list")),
    pattern(r"a (?:str|int|float|bool)", N_("a single value")),
    pattern(r"(?P<value>'[^']*') again", N_("%(value)s again")),
)
# a value as Python writes it (a quoted text, a list, a number, a date): kept as it is
_VALUE = re.compile(r"""['"\[{(\-\d].*|True|False|None""", re.DOTALL)
# a key the file's schema does not have: the keys it has, and the one it found (with the closest, if any)
_UNKNOWN_KEY = re.compile(r"unknown key(?: \(did you mean (?P<close>'[^']*')\?\))?; expected one of (?P<keys>.*)")

KEYS = (pattern(r"(?P<keys>.*)", N_("one of the keys %(keys)s")),)
STRAY = (
    pattern(r"(?P<close>'.*')", N_("a key the file does not have (did you mean %(close)s?)")),
    pattern(r"", N_("a key the file does not have")),
)


def plan_problem(problem: Problem, lang: str) -> tuple[Said, Said]:
    """A plan file's problem as (what was expected, what was found), each in `lang`; the file, line and field
    are the problem's own."""
    unknown = _UNKNOWN_KEY.fullmatch(problem.message)
    if unknown:
        return say(unknown["keys"], KEYS, lang), say(unknown["close"] or "", STRAY, lang)
    wanted, _, got = problem.message.partition(", found ")
    if not wanted.startswith("expected "):
        return Said(engine_words(problem.message, lang), False), Said(Markup(""), True)
    expected_said = say(wanted.removeprefix("expected "), EXPECTED, lang)
    if not got:
        return expected_said, Said(Markup(""), True)
    found = say(got, FOUND, lang)
    if not found.ours and _VALUE.fullmatch(got) and " which " not in got:
        return expected_said, Said(value(got), True)  # the value as the file held it
    return expected_said, found


# --- what a campaign still needs ---------------------------------------------------------------------------------

# where a need that is submitted rather than written goes (stages.readiness), for the page's "Where" column
WHERE: dict[str, str] = {
    "contributions": N_("an export of contributions, ingested at conduct"),
    "analyse.decision": N_("the decision file (%(format)s), submitted at analyse"),
}


def need_place(where: str, lang: str) -> Markup:
    """A need's place: the words for what is submitted, else the plan file's key it is written at (an id)."""
    if where in WHERE:
        return Markup(escape(words(lang).gettext(WHERE[where]))) % {"format": value("YAML")}
    return Markup(escape(words(lang).gettext(N_("the plan file's key %(key)s")))) % {"key": value(where)}


# --- the engine's refusals on the campaign page ------------------------------------------------------------------

REFUSED = (
    pattern(r"campaign (?P<id>\S+) is closed", N_("The campaign %(id)s is closed, so nothing was recorded.")),
    pattern(
        r"campaign (?P<id>\S+) is past (?P<stage>\w+); it is at (?P<at>\w+)",
        N_("The campaign %(id)s is past the %(stage)s stage: it is at %(at)s. Nothing was recorded."),
        terms={"stage": "stage_", "at": "stage_"},
    ),
    pattern(
        r"the conduct gate of (?P<id>\S+) is open: .*",
        N_(
            "The conduct gate of %(id)s is open: its outputs were computed from the contributions so far and are "
            "under review. To collect more, the window must be extended. Nothing was recorded."
        ),
    ),
    pattern(
        r"no started campaign has the id '(?P<id>[^']*)'.*",
        N_("No started campaign has the id %(id)s. Nothing was recorded."),
    ),
    pattern(
        r"no campaign plan has the id '(?P<id>[^']*)'.*",
        N_("No campaign plan has the id %(id)s. Nothing was recorded."),
    ),
    pattern(
        r"the (?P<stage>\w+) stage takes no submitted file: everything it needs is computed",
        N_("The %(stage)s stage takes no submitted file: everything it needs is computed. Nothing was recorded."),
        terms={"stage": "stage_"},
    ),
    pattern(
        r"campaign (?P<id>\S+): the plan file's window (?P<opens>\S+)\.\.(?P<closes>\S+) \((?P<zone>[^)]*)\) differs "
        r"from the recorded (?P<was_opens>\S+)\.\.(?P<was_closes>\S+) \((?P<was_zone>[^)]*)\); .*",
        N_(
            "The plan file's window for %(id)s, %(opens)s to %(closes)s (%(zone)s), differs from the one on record, "
            "%(was_opens)s to %(was_closes)s (%(was_zone)s): once conduct has begun the window moves only by a signed "
            "extension. Restore the window in the plan file. Nothing was recorded."
        ),
    ),
)


def refused(text: str, lang: str) -> Said:
    """An engine refusal's own text (`records.Refused`) in `lang`, or the engine's words, marked."""
    return say(text, REFUSED, lang)


# --- what `audit verify` finds -----------------------------------------------------------------------------------

# What is wrong with an event (state.audit), said of the event a finding names.
FINDINGS = (
    pattern(
        r"its payload, actor, time or type does not match its hash",
        N_("its content, author, time or kind does not match its hash: it was changed after it was recorded"),
    ),
    pattern(
        r"does not link to the event before it \(an event was deleted, inserted or moved\)",
        N_("it does not link to the event before it: an event was deleted, inserted or moved"),
    ),
    pattern(r"appears twice or out of order", N_("it appears twice or out of order")),
    pattern(
        r"it carries no engine signature: it was not written by the engine",
        N_("it carries no engine signature: the engine did not write it"),
    ),
    pattern(
        r"the recorded decision differs from what was signed", N_("the recorded decision differs from what was signed")
    ),
    pattern(
        r"missing: the sequence jumps from (?P<before>\d+) to (?P<after>\d+)",
        N_("it is missing: the sequence jumps from %(before)s to %(after)s"),
    ),
    pattern(
        r"its payload is not stored in its canonical form \(JCS\), so no auditor can recompute its hash",
        N_("its content is not stored in its canonical form (%(form)s), so no auditor can recompute its hash"),
        form="JCS",
    ),
    pattern(
        r"its engine signature \(key (?P<key>[^)]+)\) does not verify",
        N_("its engine signature (key %(key)s) does not verify: the engine did not sign it as it is"),
    ),
    pattern(r"its ar document (?P<path>.+) is missing", N_("its Arabic document %(path)s is missing")),
    pattern(r"its en document (?P<path>.+) is missing", N_("its English document %(path)s is missing")),
    pattern(
        r"its ar document (?P<path>.+) was changed after it was recorded",
        N_("its Arabic document %(path)s was changed after it was recorded"),
    ),
    pattern(
        r"its en document (?P<path>.+) was changed after it was recorded",
        N_("its English document %(path)s was changed after it was recorded"),
    ),
    pattern(
        r"the registry it records does not match its digest",
        N_("the people registry it records does not match its digest: the registry was changed"),
    ),
    pattern(
        r"the signature of (?P<person>\S+) does not verify: the message was altered or signed with another key",
        N_(
            "the signature of %(person)s does not verify: the decision was altered after it was signed, or signed "
            "with another key"
        ),
    ),
    pattern(
        r"it records (?P<person>\S+) deciding as (?P<claimed>\S+) for (?P<principal>\S+); the cited registry gives "
        r"(?P<given>\S+) for (?P<holder>\S+)",
        N_(
            "it records %(person)s deciding as %(claimed)s for %(principal)s; the people registry it cites gives "
            "%(given)s for %(holder)s"
        ),
        terms={"claimed": "capacity_", "given": "capacity_"},
    ),
    pattern(
        r"it cites registry (?P<digest>\w+), which the log does not hold",
        N_("it cites the people registry %(digest)s, which the log does not hold"),
    ),
    pattern(
        r"contribution row (?P<row>\d+) of this batch was changed after it was stored",
        N_("contribution row %(row)s of this batch was changed after it was stored"),
    ),
    pattern(
        r"this batch stored (?P<sealed>\d+) rows; (?P<now>\d+) are there now and they do not match the sealed "
        r"digest \(rows deleted, added or replaced\)",
        N_(
            "this batch stored %(sealed)s rows; %(now)s are there now and they do not match the sealed digest: rows "
            "were deleted, added or replaced"
        ),
    ),
    pattern(
        r"this batch quarantined (?P<sealed>\d+) rows; (?P<now>\d+) are there now and they do not match the sealed "
        r"digest \(quarantined rows deleted, added or changed\)",
        N_(
            "this batch quarantined %(sealed)s rows; %(now)s are there now and they do not match the sealed digest: "
            "quarantined rows were deleted, added or changed"
        ),
    ),
    pattern(
        r"(?P<rows>\d+) rows of this batch are marked withdrawn, but no event withdrew it",
        N_("%(rows)s rows of this batch are marked withdrawn, but no event withdrew it"),
    ),
    pattern(
        r"contribution rows of batch (?P<batch>\S+) match no ingestion event",
        N_("contribution rows of batch %(batch)s match no ingestion event"),
    ),
)


def finding(what: str, lang: str) -> Said:
    """What `audit verify` found wrong with an event, in `lang`, or the engine's words, marked."""
    return say(what, FINDINGS, lang)
