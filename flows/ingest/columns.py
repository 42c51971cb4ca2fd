"""An export's columns mapped onto the plan: questions by title, id or the plan's `columns:`, identity
columns, channel, audience and response ids.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from musharaka.flows.ingest.sources import Export, Tool, UnreadableFile
from musharaka.stages.plans import CampaignPlan, Question

# What identifies a person, by header, once normalised (`header_words`): a header is one of these after
# dropping the words around it that change nothing ("Your e-mail", "Mobile No.", "National ID Number",
# "اسم المشارك", "رقم الهاتف"). Checked in this order: "Email ID" is an e-mail, not an id.
IDENTITY = {
    "email": (
        "email",
        "mail",
        "email id",
        "البريد الالكتروني",
        "بريد الكتروني",
        "البريد",
        "بريد",
        "الايميل",
        "ايميل",
    ),
    "national-id": (
        "national id",
        "nationalid",
        "national identity",
        "civil id",
        "civil",
        "civil number",
        "id number",
        "id no",
        "id card",
        "identity card",
        "identity",
        "emirates id",
        "resident id",
        "residence id",
        "iqama",
        "passport",
        "social security",
        "ssn",
        "الرقم المدني",
        "المدني",
        "السجل المدني",
        "الرقم الوطني",
        "الهويه",
        "الهويه الوطنيه",
        "البطاقه",
        "البطاقه المدنيه",
        "البطاقه الشخصيه",
        "جواز السفر",
        "جواز",
        "الاقامه",
    ),
    "phone": (
        "phone",
        "telephone",
        "tel",
        "mobile",
        "mobile phone",
        "cell",
        "cellphone",
        "cell phone",
        "phonenumber",
        "contact number",
        "whatsapp",
        "gsm",
        "هاتف",
        "الهاتف",
        "الهاتف النقال",
        "النقال",
        "الجوال",
        "جوال",
        "موبايل",
        "الموبايل",
        "واتساب",
        "الواتساب",
        "التواصل",
    ),
    "other": (
        "name",
        "full name",
        "first name",
        "last name",
        "middle name",
        "family name",
        "given name",
        "surname",
        "username",
        "user name",
        "ip",
        "ip address",
        "الاسم",
        "اسم",
        "اسمك",
        "الاسم الكامل",
        "الاسم الثلاثي",
        "الاسم الاول",
        "اسم العائله",
        "العائله",
        "اللقب",
    ),
}
# words around an identifying header that change nothing ("Your", "No.", "رقم", "المشارك")
_BEFORE = ("your", "the", "my", "participant", "participants", "participant s", "respondent", "respondent s",
           "respondents", "personal", "primary", "submitter", "contact", "رقم", "عنوان")  # fmt: skip
_AFTER = ("number", "no", "num", "nr", "address", "of participant", "of respondent", "المشارك", "للمشارك",
          "المستجيب", "الخاص بك", "الشخصي", "الشخصيه")  # fmt: skip
# Arabic letters written several ways, marks and the tatweel: normalised for comparing, never for display
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u0640]")
_PUNCTUATION = re.compile(r"[\W_]+")


def header_words(text: str) -> str:
    """A header as the words it is made of: case, punctuation, spacing and Arabic letter variants set aside."""
    text = _MARKS.sub("", unicodedata.normalize("NFKC", str(text)).casefold()).translate(_ARABIC_LETTERS)
    words = " ".join(_PUNCTUATION.sub(" ", text).split())
    return re.sub(r"\be mail\b", "email", words)


def _around(words: str, affixes: tuple[str, ...], prefix: bool) -> str:
    for affix in affixes:
        if prefix and words.startswith(affix + " "):
            return words[len(affix) + 1 :]
        if not prefix and words.endswith(" " + affix):
            return words[: -len(affix) - 1]
    return words


_KINDS = {words: kind for kind, headers in IDENTITY.items() for words in map(header_words, headers)}


def identity_kind(header: str) -> str | None:
    """Which kind of identifying data a header names (email, national-id, phone, other), if any."""
    words = header_words(header)
    bare = _around(words, _BEFORE, prefix=True)
    for candidate in (words, bare, _around(words, _AFTER, prefix=False), _around(bare, _AFTER, prefix=False)):
        if candidate in _KINDS:
            return _KINDS[candidate]
    return None


class ContributionsError(UnreadableFile):
    """The file cannot be taken at all; `problems` names the file, row or header, and what was found."""


# which identity makes the participant's pseudonym, most reliable first
PARTICIPANT_ORDER = ("email", "national-id", "phone")


def norm(text: str) -> str:
    """How headers, titles and option labels are compared: case- and whitespace-insensitively."""
    return " ".join(str(text).split()).casefold()


@dataclass(frozen=True)
class QuestionColumns:
    question: Question
    columns: tuple[int, ...]  # one column, or SurveyMonkey's one column per option
    sublabels: tuple[str, ...] = ()


@dataclass
class Layout:
    """Which column of the file holds what the campaign keeps."""

    tool: Tool
    header: list[str]
    times: tuple[int, ...]  # the time columns; a row's first non-empty one is its time
    response_id: int | None
    channel: int | None
    audience: int | None
    identity: dict[int, str]  # column -> kind (email, national-id, phone, other)
    segments: dict[str, int]  # segment id -> column
    questions: list[QuestionColumns]
    ignored: list[str] = field(default_factory=list)
    # every column kept for nothing (ignored or the tool's metadata): read only to warn of people's data in it
    unmapped: list[int] = field(default_factory=list)

    def kept(self) -> list[int]:
        """The columns whose cells a quarantined row keeps: those mapped to a question, a segment or a field,
        and the identities that make the participant (pseudonymised); names and addresses go with the rest."""
        fields = [*self.times, self.response_id, self.channel, self.audience, *self.segments.values()]
        people = [c for c, kind in self.identity.items() if kind in PARTICIPANT_ORDER]
        answers = [c for mapped in self.questions for c in mapped.columns]
        return sorted({c for c in (*fields, *people, *answers) if c is not None})


def layout(export: Export, plan: CampaignPlan) -> Layout:
    """Map the file's header onto the plan; a required question with no column refuses the whole file."""
    header, tool, path = export.header, export.tool, export.path
    names = [norm(h) for h in header]
    taken: set[int] = set()

    def find(*candidates: str) -> int | None:
        wanted = {norm(c) for c in candidates}
        return next((i for i, n in enumerate(names) if n in wanted and i not in taken), None)

    times = tuple(c for c in (find(name) for name in tool.times) if c is not None)
    if not times:
        raise ContributionsError(
            [f"{path}:1: header: expected a time column ({' or '.join(tool.times)}) as {tool.label} writes, found none"]
        )
    taken.update(times)
    response_id = find(*tool.ids) if tool.ids else None
    if response_id is not None:
        taken.add(response_id)
    channel = find("channel") if tool.name in ("csv", "jsonl") else None
    audience = find("audience") if tool.name in ("csv", "jsonl") else None
    taken.update(c for c in (channel, audience) if c is not None)

    identity: dict[int, str] = {}
    extra = {norm(h) for h in (*plan.ingest.identity, *tool.identity)}
    # a header the plan gives a question or segment by name is theirs, whatever it looks like
    claimed = {norm(c) for q in plan.instrument for c in q.columns}
    claimed.update(norm(c) for segment in plan.ingest.segments for c in segment.columns)
    for i, name in enumerate(names):
        kind = identity_kind(header[i]) if name not in claimed else None
        if kind is None and name in extra:
            kind = "email" if "mail" in name else "other"
        if kind is not None and i not in taken:
            identity[i] = kind
            taken.add(i)

    segments: dict[str, int] = {}
    for segment in plan.ingest.segments:
        column = find(*segment.columns, segment.id)
        if column is not None:
            segments[segment.id] = column
            taken.add(column)

    questions = [_question_columns(q, export, names, taken) for q in plan.instrument]
    missing = [q for q, found in zip(plan.instrument, questions, strict=True) if found is None and q.required]
    if missing:
        raise ContributionsError(
            [
                f"{path}:1: header: expected a column for question {q.id!r} (titled {q.title.en!r} or {q.title.ar!r}, "
                f"or one of its `columns`), found none among {header}"
                for q in missing
            ]
        )
    metadata = {norm(m) for m in tool.metadata}
    prefixes = tuple(norm(p) for p in tool.metadata_prefixes)
    mapped = [found for found in questions if found is not None]
    owned = {norm(header[c]) for found in mapped for c in found.columns}
    ignored, unmapped = [], []
    for i, name in enumerate(names):
        if i in taken or ("/" in name and name.split("/")[0] in owned):  # KoboToolbox's 1/0 column per option
            continue
        unmapped.append(i)
        if name in metadata or (prefixes and name.startswith(prefixes)) or not name:
            continue
        ignored.append(header[i])
    return Layout(tool, header, times, response_id, channel, audience, identity, segments, mapped, ignored, unmapped)


def _question_columns(question: Question, export: Export, names: list[str], taken: set[int]) -> QuestionColumns | None:
    """The column(s) of a question: its `columns`, its id, or its title in either language."""
    wanted = [norm(c) for c in question.columns] or [
        norm(question.id),
        norm(question.title.en),
        norm(question.title.ar),
    ]
    column = next((i for i, n in enumerate(names) if n in wanted and i not in taken), None)
    if column is None and export.tool.name == "odk":  # ODK Central joins group names on: g1-q2
        column = next((i for i, n in enumerate(names) if i not in taken and n.endswith("-" + norm(question.id))), None)
    if column is None and export.tool.name == "pabulib" and question.type == "ballot":
        column = next((i for i, n in enumerate(names) if n == "vote" and i not in taken), None)
    if column is None and export.tool.name == "ms-forms":  # a repeated title gets a number: Name2
        column = next(
            (
                i
                for i, n in enumerate(names)
                if i not in taken and n.rstrip("0123456789") in wanted and n[-1:].isdigit()
            ),
            None,
        )
    if column is None:
        return None
    taken.add(column)
    if export.tool.name != "surveymonkey":
        return QuestionColumns(question, (column,))
    # SurveyMonkey: a question spanning several columns has its text in the first only; the second
    # header row names each column's option (or `Response`, `Open-Ended Response`)
    columns = [column]
    while columns[-1] + 1 < len(export.header) and not export.header[columns[-1] + 1].strip():
        columns.append(columns[-1] + 1)
    taken.update(columns)
    sublabels = tuple(export.sublabels[c] if c < len(export.sublabels) else "" for c in columns)
    return QuestionColumns(question, tuple(columns), sublabels)


def default_channel(plan: CampaignPlan, given: str | None, export: Export, found: Layout) -> str | None:
    """`--channel`, else the plan's `ingest.channel`, else the campaign's only channel; the file's own column wins."""
    channel = given or plan.ingest.channel or (plan.channels[0] if len(plan.channels) == 1 else None)
    if channel is not None and channel not in plan.channels:
        raise ContributionsError(
            [f"--channel: expected one of the campaign's channels {list(plan.channels)}, found {channel!r}"]
        )
    if channel is None and found.channel is None:
        raise ContributionsError(
            [
                f"{export.path}: channel: the file has no channel column and the campaign has several channels "
                f"{list(plan.channels)}; give --channel or set `ingest.channel` in the plan"
            ]
        )
    if (
        found.audience is None
        and plan.ingest.audience is None
        and plan.ingest.audience_question is None
        and len(plan.audiences) > 1
    ):
        raise ContributionsError(
            [
                f"{export.path}: audience: the file has no audience column and the campaign has several audiences; "
                "set `ingest.audience` or `ingest.audience_question` in the plan"
            ]
        )
    return channel
