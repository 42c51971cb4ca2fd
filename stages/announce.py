"""Stage 5, announce (guide 8.1.5): tell everyone who took part what was decided, on the same channels.

The pack: a press release and a participation-portal page (HTML documents, Arabic and English), and a
post per channel that collected contributions, each within its channel's limit (CHANNEL_LIMITS).
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from musharaka.stages import analyse
from musharaka.stages import conduct as conduct_stage
from musharaka.stages.activities import Activity, Perform, Run, StageDefinition, directly
from musharaka.stages.common import MissingInputs, StageModel, activity
from musharaka.stages.communication import Promise, Record, promises_at
from musharaka.stages.i18n import words
from musharaka.stages.plans import Bilingual, CampaignPlan, Channel

ACTIVITIES = (
    activity(
        "Inform every party that took part, the public first",
        "إبلاغ جميع الأطراف المشاركة، والجمهور أولاً",
    ),
    activity(
        "Explain the reasons, and why not every opinion could be adopted",
        "شرح الأسباب، ولماذا لم يكن ممكناً الأخذ بجميع الآراء",
    ),
    activity(
        "Announce on the same channels used to collect contributions",
        "الإعلان عبر القنوات نفسها التي جُمعت بها المساهمات",
    ),
    activity("Thank participants and announce future topics", "شكر المشاركين والإعلان عن المواضيع القادمة"),
)

# The documents the stage renders besides its own (templates/announce-<name>.html.j2).
DOCUMENTS = ("press-release", "web-page")

Counting = Literal["x", "characters"]


@dataclass(frozen=True)
class Limit:
    """How long a post on a channel may be, and how the channel counts it (None: no limit)."""

    length: int | None
    counted: Counting = "characters"


# One table for every channel. X counts as X does (weighted, see x_length); the others count characters
# (Unicode code points). `social-media` stands for all networks at once, so it takes the strictest, X's.
CHANNEL_LIMITS: dict[Channel, Limit] = {
    "x": Limit(280, "x"),
    "social-media": Limit(280, "x"),
    "instagram": Limit(2200),
    "facebook": Limit(63206),
    "sms": Limit(335),  # five concatenated UCS-2 parts of 67 characters: Arabic text is UCS-2
    "website": Limit(None),
    "e-survey": Limit(None),
    "live-stream": Limit(None),
    "virtual-workshop": Limit(None),
    "blog": Limit(None),
    "email": Limit(None),
    "in-person": Limit(None),
    "whatsapp": Limit(65536),
    "telegram": Limit(4096),
    "linkedin": Limit(3000),
    "tiktok": Limit(2200),
    "youtube": Limit(5000),
}
NO_LIMIT = Limit(None)  # website, apps, portals, meetings, and the channels a programme adds

MIN_PART = 24  # a shortened part keeps at least this many characters, or the post cannot be written
URL = re.compile(r"https?://\S+")
# twitter-text v3: code points in these ranges weigh 1, all others 2; a link weighs 23 whatever its length
_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def x_length(text: str) -> int:
    """The length of `text` as X counts it against its 280 (twitter-text v3, NFC-normalised)."""
    text = unicodedata.normalize("NFC", text)
    links = URL.findall(text)
    rest = URL.sub("", text)
    weight = sum(1 if any(lo <= ord(ch) <= hi for lo, hi in _LIGHT) else 2 for ch in rest)
    return weight + 23 * len(links)


def measure(text: str, limit: Limit) -> int:
    return x_length(text) if limit.counted == "x" else len(text)


class Post(StageModel):
    """One post, as it goes out on one channel in one language."""

    channel: Channel
    lang: Literal["ar", "en"]
    text: str
    length: int  # as the channel counts it
    limit: int | None
    shortened: bool


class Inputs(StageModel):
    analyse: analyse.Outputs
    conduct: conduct_stage.Outputs | None = None
    next_topics: tuple[Bilingual, ...] = ()
    communication: Record = Record()


class Informed(StageModel):
    """Who is told: everyone who took part, the public first; and what the plan promised them, kept or not."""

    title: Bilingual
    participants: int
    promises: tuple[Promise, ...] = ()  # the plan's promises to participants: kept, broken, pending


class Explained(StageModel):
    decision: Bilingual
    reasons: Bilingual
    not_adopted: Bilingual


class Thanked(StageModel):
    thanks: Bilingual
    next_topics: tuple[Bilingual, ...]


class Message(Informed, Explained, Thanked):
    """What the announcement says, whatever the channel."""


class Placed(StageModel):
    channels: tuple[Channel, ...]  # the channels that collected contributions: the announcement goes there
    posts: tuple[Post, ...]


class Outputs(Message):
    """What the announcement says and where it goes."""

    channels: tuple[Channel, ...]
    posts: tuple[Post, ...] = ()


def collecting_channels(plan: CampaignPlan, counts: conduct_stage.Outputs | None) -> tuple[Channel, ...]:
    """The plan's channels that brought contributions, in the plan's order (all of them if none did)."""
    used = tuple(c for c in plan.channels if counts is not None and counts.by_channel.get(c, 0) > 0)
    return used or plan.channels


def _cut(text: str, room: int) -> str:
    """`text` cut to `room` characters at a word boundary, with an ellipsis."""
    if len(text) <= room:
        return text
    words = text[: room - 1].rsplit(" ", 1)[0] if " " in text[: room - 1] else text[: room - 1]
    return words.rstrip(" ,.،؛:-") + "…"


def compose_post(channel: Channel, lang: Literal["ar", "en"], outputs: Message) -> Post:
    """The post for one channel: decision, reasons, why not every opinion, thanks, next topics.

    When it is too long for the channel, the longest of the decision, reasons, not-adopted and topics
    parts are cut first (at a word, with an ellipsis), down to MIN_PART characters each; the title and
    the thanks are never cut. A post that cannot fit even then is a stage failure naming the channel.
    """
    _ = words(lang).gettext
    sep = "؛ " if lang == "ar" else "; "
    topics = sep.join(t.model_dump()[lang] for t in outputs.next_topics) or _("to be announced")
    parts = [
        getattr(outputs.decision, lang),
        getattr(outputs.reasons, lang),
        getattr(outputs.not_adopted, lang),
        topics,
    ]
    limit = CHANNEL_LIMITS.get(channel, NO_LIMIT)  # a channel of the programme's own: no limit known
    why, not_every, upcoming = _("Why"), _("Not every opinion could be adopted"), _("Next topics")

    def text(cut: list[str]) -> str:
        decision, reasons, not_adopted, next_topics = cut
        return (
            f"{getattr(outputs.title, lang)}: {decision}\n{why}: {reasons}\n{not_every}: {not_adopted}\n"
            f"{getattr(outputs.thanks, lang)}\n{upcoming}: {next_topics}"
        )

    full = text(parts)
    if limit.length is None or measure(full, limit) <= limit.length:
        return Post(
            channel=channel, lang=lang, text=full, length=measure(full, limit), limit=limit.length, shortened=False
        )
    cap = max(len(p) for p in parts)
    while cap >= MIN_PART:  # lower one cap on every part until the post fits: the longest parts give first
        candidate = text([_cut(p, cap) for p in parts])
        if measure(candidate, limit) <= limit.length:
            return Post(
                channel=channel,
                lang=lang,
                text=candidate,
                length=measure(candidate, limit),
                limit=limit.length,
                shortened=True,
            )
        cap -= 1
    floor = measure(text([_cut(p, MIN_PART) for p in parts]), limit)
    raise MissingInputs(
        [
            f"announce.posts.{channel}.{lang}: the post cannot fit the channel's {limit.length} "
            f"({'as X counts' if limit.counted == 'x' else 'characters'}); even with every part cut to "
            f"{MIN_PART} characters it is {floor}: shorten the campaign title or the thanks"
        ]
    )


def _thanks(lang: str, count: int) -> str:
    thanks = words(lang).ngettext(
        "Thank you to the %(n)s person who took part.", "Thank you to the %(n)s people who took part.", count
    )
    return thanks % {"n": f"{count:,}"}


class Given(Run):
    inputs: Inputs


class Placing(StageModel):
    given: Given
    message: Message


def inform(given: Given) -> Informed:
    return Informed(
        title=given.plan.title,
        participants=given.inputs.analyse.total,
        promises=promises_at(given.plan, given.inputs.communication, given.now),
    )


def explain(given: Given) -> Explained:
    decision = given.inputs.analyse.decision
    return Explained(decision=decision.summary, reasons=decision.rationale, not_adopted=decision.not_adopted)


def thank(given: Given) -> Thanked:
    count = given.inputs.analyse.total
    return Thanked(
        thanks=Bilingual(**{lang: _thanks(lang, count) for lang in ("ar", "en")}), next_topics=given.inputs.next_topics
    )


def place(placing: Placing) -> Placed:
    """The post for every channel that collected contributions, in each language."""
    channels = collecting_channels(placing.given.plan, placing.given.inputs.conduct)
    langs: tuple[Literal["ar", "en"], ...] = ("ar", "en")
    posts = tuple(compose_post(channel, lang, placing.message) for channel in channels for lang in langs)
    return Placed(channels=channels, posts=posts)


INFORM = Activity("announce.inform", ACTIVITIES[0], inform)
EXPLAIN = Activity("announce.explain", ACTIVITIES[1], explain)
PLACE = Activity("announce.same-channels", ACTIVITIES[2], place)
THANK = Activity("announce.thank", ACTIVITIES[3], thank)


def run(inputs: Inputs, plan: CampaignPlan, now: datetime, perform: Perform = directly) -> Outputs:
    """Compose the announcement from the approved decision; it goes out on every collecting channel."""
    given = Given(inputs=inputs, plan=plan, now=now)
    informed, explained, thanked = perform(INFORM, given), perform(EXPLAIN, given), perform(THANK, given)
    message = Message(**dict(informed), **dict(explained), **dict(thanked))
    placed = perform(PLACE, Placing(given=given, message=message))
    return Outputs(**dict(message), channels=placed.channels, posts=placed.posts)


STAGE = StageDefinition(
    name="announce",
    inputs=Inputs,
    outputs=Outputs,
    submitted=None,
    activities=(INFORM, EXPLAIN, PLACE, THANK),
    run=run,
    documents=DOCUMENTS,
)
