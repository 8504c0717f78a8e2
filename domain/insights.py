"""The program's reports (`insights(from, to)`, `loyalty report`): the range, and the arithmetic made on
the sums the books give (`persistence/insights/queries.py`). Definitions: docs/reports.md."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.clock import LocalCalendar
from domain.program import Program
from domain.vocabulary import PointKind

MAX_DAYS = 366
SPENDING_KINDS = (PointKind.REDEMPTION.value, PointKind.ORDER_OFFSET.value, PointKind.MAKE_UP.value)
EXPIRY_KIND = PointKind.EXPIRY.value
# Segment targets by program name: (the segments counted together, "at_least"/"at_most", percent).
SEGMENT_TARGETS = {
    "fresh-grocery": {
        "important": (("HIGH_VALUE", "IMPORTANT_DEVELOP", "IMPORTANT_RETAIN", "IMPORTANT_LOST"), ">=", 20),
        "lost": (("IMPORTANT_LOST",), "<=", 5),
    },
}


@dataclass(frozen=True)
class Range:
    """Local days `first`..`last` inclusive; `start` is the first one's midnight, `end` the midnight after
    the last (exclusive), both in the program's zone."""

    first: date
    last: date
    start: datetime
    end: datetime


def report_range(calendar: LocalCalendar, first: date, last: date) -> Range:
    """The range of local days [first, last]; ValueError when reversed or longer than MAX_DAYS."""
    if last < first:
        raise ValueError("to must not be before from.")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValueError(f"A report covers at most {MAX_DAYS} days.")
    return Range(first, last, calendar.start_of_day(first), calendar.start_of_day(last + timedelta(days=1)))


@dataclass(frozen=True)
class PointTotals:
    issued: int
    spent: int
    expired: int
    by_kind: tuple[tuple[str, int], ...]   # (kind, net Σ delta in the range), kinds in vocabulary order


def point_totals(sums: dict[str, tuple[int, int]]) -> PointTotals:
    """From (Σ positive deltas, Σ negative deltas) per kind: issued = Σ positive of every kind; spent =
    −Σ negative of the spending kinds; expired = −Σ negative of EXPIRY; by kind the net Σ delta."""
    issued = sum(plus for plus, _ in sums.values())
    spent = -sum(sums[kind][1] for kind in SPENDING_KINDS if kind in sums)
    expired = -sums.get(EXPIRY_KIND, (0, 0))[1]
    by_kind = tuple((kind.value, sums[kind.value][0] + sums[kind.value][1]) for kind in PointKind if kind.value in sums)
    return PointTotals(issued, spent, expired, by_kind)


def breakage_rate(expired: int, issued: int) -> float:
    """Expired ÷ issued in the range; 0 when nothing was issued."""
    return expired / issued if issued > 0 else 0.0


def value_fen(points: int, program: Program) -> int:
    """What `points` are worth at the program's offset value, in fen, rounded down."""
    return points * 100 // program.offset.points_per_yuan


def share(members: int, total: int) -> float:
    """members ÷ total; 0 when there is nobody."""
    return members / total if total > 0 else 0.0


def segment_target(program: Program, segment: str) -> str | None:
    """The program's targets a segment counts towards, each "<op> <percent>% (<segments counted together>)",
    joined by "; "; None when the program has none for it."""
    found = [f"{op} {percent}% ({' + '.join(segments)})"
             for segments, op, percent in SEGMENT_TARGETS.get(program.name, {}).values() if segment in segments]
    return "; ".join(found) or None
