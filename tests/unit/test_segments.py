"""The lifecycle segment rule: NEW first, then each of the eight high/low combinations."""
import tomllib
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.clock import LocalCalendar
from domain.errors import ProgramError
from domain.program import SegmentRule, load_program, parse_program
from domain.segments import segment_for, since_start
from domain.vocabulary import Segment

S = Segment


@pytest.mark.parametrize("recent, frequent, valuable, segment", [
    (True, True, True, S.HIGH_VALUE),
    (True, False, True, S.IMPORTANT_DEVELOP),
    (False, True, True, S.IMPORTANT_RETAIN),
    (False, False, True, S.IMPORTANT_LOST),
    (True, True, False, S.GENERAL_VALUE),
    (True, False, False, S.GENERAL_DEVELOP),
    (False, True, False, S.GENERAL_RETAIN),
    (False, False, False, S.SLEEPING),
])
def test_each_combination_and_new_before_all(recent, frequent, valuable, segment):
    assert segment_for(False, recent, frequent, valuable) is segment
    assert segment_for(True, recent, frequent, valuable) is S.NEW


def test_every_segment_is_reachable_once():
    reached = [segment_for(new, r, f, m) for new in (True, False) for r in (True, False) for f in (True, False)
               for m in (True, False)]
    assert set(reached) == set(Segment)
    assert len({segment_for(False, r, f, m) for r in (True, False) for f in (True, False) for m in (True, False)}) == 8


def test_days_back_start_at_local_midnight():
    calendar = LocalCalendar(ZoneInfo("Asia/Shanghai"))
    assert since_start(calendar, date(2026, 6, 15), 14) == datetime.fromisoformat("2026-06-01T00:00:00+08:00")


def test_program_files_set_thresholds_and_a_file_without_them_gets_the_defaults():
    root = Path(__file__).resolve().parents[2] / "programs"
    assert load_program(root / "standard.toml").segments == SegmentRule(30, 90, 4, 200000)
    assert load_program(root / "fresh-grocery.toml").segments == SegmentRule(30, 14, 24, 300000)
    data = tomllib.loads((root / "standard.toml").read_text(encoding="utf-8"))
    del data["segments"]
    assert parse_program(data).segments == SegmentRule()
    data["segments"] = {"recent_days": 0, "frequent_orders": 3, "valuable_spend": 1}
    with pytest.raises(ProgramError, match="segments.recent_days"):
        parse_program(data)
