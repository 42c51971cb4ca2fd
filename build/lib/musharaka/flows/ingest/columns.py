"""An export's columns mapped onto the plan: questions by title, id or the plan's `columns:`, identity
columns, channel, audience and response ids.
"""

from dataclasses import dataclass, field

from musharaka.flows.ingest.sources import Export, Tool, UnreadableFile
from musharaka.stages.plans import CampaignPlan, Question

# headers that identify a person, whatever the tool (compared case- and space-insensitively)
IDENTITY = {
    "email": (
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "البريد الإلكتروني",
        "البريد الالكتروني",
        "البريد",
    ),
    "national-id": ("national id", "civil id", "civil number", "id number", "الرقم المدني", "رقم الهوية", "الهوية"),
    "phone": ("phone", "phone number", "mobile", "mobile number", "رقم الهاتف", "الهاتف", "رقم الجوال", "الجوال"),
    "other": (
        "name",
        "full name",
        "first name",
        "last name",
        "ip address",
        "الاسم",
        "الاسم الكامل",
        "الاسم الأول",
        "اسم العائلة",
    ),
}


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
    for i, name in enumerate(names):
        kind = next((k for k, headers in IDENTITY.items() if name in {norm(h) for h in headers}), None)
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
    ignored = []
    for i, name in enumerate(names):
        if i in taken or name in metadata or (prefixes and name.startswith(prefixes)) or not name:
            continue
        if "/" in name and name.split("/")[0] in owned:  # KoboToolbox's one 1/0 column per option
            continue
        ignored.append(header[i])
    return Layout(tool, header, times, response_id, channel, audience, identity, segments, mapped, ignored)


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
