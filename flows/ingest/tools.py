"""The tools ministries export contributions from, and each one's quirks (../shared/data/EXPORT-FORMATS.md), as
data: what `sources` reads by, and what commands that only name a tool (or report a file unreadable) need,
without pandas."""

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Tool:
    """How one tool writes its export: where the response id and time are, how options are joined."""

    name: str
    label: str
    ids: tuple[str, ...] = ()  # headers holding the tool's own response id (the first present)
    times: tuple[str, ...] = ()  # headers holding the response's time (the first present)
    formats: tuple[str, ...] = ()  # how it writes times without a zone (ISO 8601 is always accepted)
    naive: Literal["form", "utc"] = "form"  # the zone of times written without one
    separator: str = "|"  # how a multiple-choice cell joins the options chosen
    metadata: tuple[str, ...] = ()  # headers the tool adds that carry nothing to keep
    metadata_prefixes: tuple[str, ...] = ()
    identity: tuple[str, ...] = ()  # headers where the tool puts people's data


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "google-forms",
            "Google Forms (CSV)",
            times=("Timestamp",),
            formats=("%m/%d/%Y %H:%M:%S",),
            separator=", ",
            metadata=("Score", "Total score"),
            identity=("Email Address",),
        ),
        Tool(
            "ms-forms",
            "Microsoft Forms (XLSX)",
            ids=("ID",),
            times=("Completion time",),
            formats=("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%y %H:%M:%S", "%m/%d/%y %I:%M:%S %p"),
            separator=";",
            metadata=("Start time", "Last modified time", "Total points", "Quiz feedback"),
            metadata_prefixes=("Points - ", "Feedback - "),
            identity=("Email", "Name"),
        ),
        Tool(
            "kobo",
            "KoboToolbox (CSV)",
            ids=("_uuid",),
            times=("end", "_submission_time"),  # `end` carries the device's offset; the server time is UTC
            naive="utc",
            separator=" ",
            metadata=("start", "today", "deviceid", "__version__", "meta/instanceID", "formhub/uuid"),
            metadata_prefixes=("_",),
            identity=("_submitted_by", "username", "phonenumber"),
        ),
        Tool(
            "odk",
            "ODK Central (CSV)",
            ids=("KEY", "meta-instanceID"),
            times=("SubmissionDate",),
            naive="utc",
            separator=" ",
            metadata=(
                "start",
                "end",
                "today",
                "deviceid",
                "SubmitterID",
                "AttachmentsPresent",
                "AttachmentsExpected",
                "Status",
                "ReviewState",
                "DeviceID",
                "Edits",
                "FormVersion",
            ),
            identity=("SubmitterName",),
        ),
        Tool(
            "surveymonkey",
            "SurveyMonkey (CSV, two header rows)",
            ids=("Respondent ID",),
            times=("End Date",),
            formats=("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S"),
            separator="\x1f",  # one column per option: the chosen ones are joined here
            metadata=("Collector ID", "Start Date", "Custom Data 1"),
            identity=("IP Address", "Email Address", "First Name", "Last Name"),
        ),
        Tool(
            "pabulib",
            "Pabulib (.pb)",
            ids=("voter_id",),
            times=("voted_at",),
            separator=",",
        ),
        Tool("csv", "CSV (submitted_at, channel, audience, then questions)", times=("submitted_at",)),
        Tool("jsonl", "JSON Lines (one object per response)", times=("submitted_at",)),
    )
}


class UnreadableFile(Exception):
    """The file as a whole cannot be read: every problem, each naming the file and what was found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
