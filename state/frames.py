"""A campaign's contributions read into one DataFrame (the stages' shape, see `stages.frame`)."""

import pandas as pd
from sqlmodel import Session, col, select

from stages import frame
from state.tables import Contribution


def contributions_frame(campaign_id: str, *, session: Session) -> pd.DataFrame:
    """Every contribution of the campaign in submission order: one query, answers expanded in bulk."""
    rows = session.exec(
        select(
            Contribution.submitted_at,
            Contribution.channel,
            Contribution.audience,
            Contribution.answers,
            Contribution.participant,
            Contribution.source,
            Contribution.segments,
        )
        .where(Contribution.campaign_id == campaign_id)
        .order_by(col(Contribution.submitted_at), col(Contribution.id))
    ).all()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in range(7)]
    at, channel, audience, answers, participant, source, segments = columns
    return frame.from_json(at, channel, audience, answers, participant, source, segments)
