"""The contributions reader: a campaign's rows as one DataFrame, answers and segments expanded."""

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlmodel import Session, SQLModel, create_engine

from musharaka.state.frames import contributions_frame
from musharaka.state.tables import Contribution


def row(key: str, at: datetime, answers: str, campaign: str = "c1", segments: str = "{}") -> Contribution:
    return Contribution(
        campaign_id=campaign,
        batch="1",
        row_key=key,
        submitted_at=at,
        channel="website",
        audience="students",
        answers=answers,
        segments=segments,
        source="google-forms",
    )


def test_rows_of_one_campaign_come_in_submission_order_with_answers_as_columns(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(row("b", datetime(2025, 7, 2, 9, tzinfo=UTC), '{"q1":"yes","q2":4.0}', segments='{"gov":"muscat"}'))
        session.add(row("a", datetime(2025, 7, 1, 9, tzinfo=UTC), '{"q1":"no","q3":["x","y"]}'))
        session.add(row("c", datetime(2025, 7, 3, 9, tzinfo=UTC), '{"q2":5.0}'))
        session.add(row("z", datetime(2025, 7, 1, 8, tzinfo=UTC), '{"q1":"other"}', campaign="c2"))
        session.commit()
        frame = contributions_frame("c1", session=session, chunk=2)  # two partitions
    assert len(frame) == 3
    assert frame["submitted_at"].tolist() == [
        pd.Timestamp("2025-07-01 09:00", tz="UTC"),
        pd.Timestamp("2025-07-02 09:00", tz="UTC"),
        pd.Timestamp("2025-07-03 09:00", tz="UTC"),
    ]
    assert frame["q:q1"].tolist()[:2] == ["no", "yes"] and pd.isna(frame["q:q1"].iloc[2])
    assert frame["q:q2"].tolist()[1:] == [4.0, 5.0]
    assert frame["q:q3"].iloc[0] == ["x", "y"]
    assert frame["s:gov"].tolist()[1] == "muscat"
    assert set(frame["source"]) == {"google-forms"}


def test_a_campaign_without_rows_gives_an_empty_frame(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        frame = contributions_frame("none", session=session)
    assert frame.empty and "submitted_at" in frame.columns
