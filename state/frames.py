"""A campaign's contributions read into one DataFrame (the stages' shape, see `stages.frame`)."""

import pandas as pd
from sqlalchemy import Text, cast, select
from sqlmodel import Session, col

from musharaka.stages import frame
from musharaka.state.tables import Contribution


def contributions_frame(campaign_id: str, *, session: Session, chunk: int = 100_000) -> pd.DataFrame:
    """Every contribution of the campaign that counts (none of a withdrawn batch) in submission order: one
    query, answers expanded in bulk.

    Rows stream in partitions of `chunk`, each expanded at once, so the parsed JSON of only one
    partition is in memory beside the frame being built."""
    result = session.execute(
        select(
            # as text: pandas parses the column at once, far faster than a datetime object per row
            cast(col(Contribution.submitted_at), Text),
            col(Contribution.channel),
            col(Contribution.audience),
            col(Contribution.answers),
            col(Contribution.participant),
            col(Contribution.source),
            col(Contribution.segments),
        )
        .where(col(Contribution.campaign_id) == campaign_id, col(Contribution.withdrawn) == 0)
        .order_by(col(Contribution.submitted_at), col(Contribution.id))
        .execution_options(yield_per=chunk)
    )
    parts = [frame.from_json(*zip(*rows, strict=True)) for rows in result.partitions(chunk)]
    if not parts:
        return frame.from_json([], [], [], [], [], [], [])
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
