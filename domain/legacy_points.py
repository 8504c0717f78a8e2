"""Legacy points (seed 004 §十七: the old stores' unredeemed points convert at 100 to 1), imported from a file
by `loyalty import legacy-points FILE.csv`.

The file is CSV in UTF-8 with the header `phone_or_member_no,legacy_points,external_row_id` (HEADER). Each
row converts at `migration.legacy_ratio` legacy points to 1 point, rounded down, and is imported once, by its
external row id:
- a member number, or the mainland mobile number of a member: credited at once, a MIGRATION entry whose lot
  expires by `points.expiry.months` from the import;
- a mobile number no member has: WAITING, stored under the number's blind index only, and credited (its lot
  still expiring from the import) in the transaction that makes the number a member's (`credit_waiting`);
- anything else is rejected with its line and the reason, and the rest of the file is still imported.
A re-run changes nothing: its rows are imported already. A row is told from a second row of the same file
with the same external id by the file's digest and its line. The file is read as a stream, a batch of rows
a transaction (`BATCH_ROWS`): memory stays flat however long the file.
"""
from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import AsyncContextManager, Callable, Iterable, Iterator

from domain import members as member_rules
from domain.errors import LoyaltyError, WriteConflict
from domain.handling import Handling
from domain.model import LedgerEntry, Member
from domain.ports import UnitOfWork
from domain.program import Program
from domain.vocabulary import PointKind
from domain.wallet import lot_expiry

HEADER = ("phone_or_member_no", "legacy_points", "external_row_id")
BATCH_ROWS = 1000                    # rows a transaction
ATTEMPTS = 3                         # a batch that lost a race (a deadlock with a binding) runs again
EXTERNAL_ROW_ID_MAX = 128
LEGACY_POINTS_MAX = 999_999_999_999  # twelve digits: beyond it, a typo rather than a balance
MEMBER_NO = re.compile(r"[0-9A-Za-z]{1,16}")
WHOLE_NUMBER = re.compile(r"[0-9]+")
NEGATIVE = re.compile(r"-[0-9]+")
PHONE_DIGITS = 11


class LegacyFileError(Exception):
    """A file that is not a legacy-points file at all (its header): nothing of it is imported."""


@dataclass(frozen=True, slots=True)
class LegacyRow:
    """A row that passed the checks of its own: one of `member_no` and `phone` (normalised, held in memory
    only: it is stored as its blind index)."""

    line: int
    external_row_id: str
    legacy_points: int
    points: int
    member_no: str | None = None
    phone: str | None = None


@dataclass
class ImportOutcome:
    """What an import did, in rows: `credited` and `waiting` were imported now; `already_imported` by an
    earlier run (or file)."""

    rows: int = 0
    credited: int = 0
    waiting: int = 0
    already_imported: int = 0
    rejected: int = 0
    points_credited: int = 0

    @property
    def imported(self) -> int:
        return self.credited + self.waiting

    def add(self, other: "ImportOutcome") -> None:
        for name in ("credited", "waiting", "already_imported", "rejected", "points_credited"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Batch:
    """A batch's rows as read (`rows`) and the lines rejected on reading (`rejected`: (line, reason))."""

    rows: list[LegacyRow] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows) + len(self.rejected)


def to_points(legacy_points: int, program: Program) -> int:
    """Legacy points as points: `migration.legacy_ratio` to 1, rounded down."""
    return legacy_points // program.migration.legacy_ratio


def file_digest(chunks: Iterable[bytes]) -> str:
    """What tells a file from another: SHA-256 of its bytes, 16 hex digits."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()[:16]


def read_rows(lines: Iterable[str], program: Program) -> Iterator[tuple[int, LegacyRow | str]]:
    """The data rows of a file given as text lines, read one at a time: (line number, the row, or the reason
    it is rejected). The header is checked first (LegacyFileError); blank lines are skipped. Text that was
    not UTF-8 arrives as U+FFFD (the caller decodes with errors="replace") and is a malformed row."""
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise LegacyFileError(f"the file is empty; its first line must be the header {','.join(HEADER)}") from None
    except csv.Error as error:
        raise LegacyFileError(f"line 1 is not CSV ({error})") from None
    if tuple(name.strip().lower() for name in header) != HEADER:
        raise LegacyFileError(f"line 1 must be the header {','.join(HEADER)}")
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield line, f"malformed row: {error}"
            continue
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        yield line, parse_row(line, fields, program)


def parse_row(line: int, fields: list[str], program: Program) -> LegacyRow | str:
    """A row's own checks, in the order of the reasons given: three fields of text; an external row id of
    1 to EXTERNAL_ROW_ID_MAX printable characters; a member number or a mainland mobile number; legacy
    points a whole number from 0 to LEGACY_POINTS_MAX that converts to at least 1 point."""
    if len(fields) != len(HEADER):
        return f"malformed row: {len(fields)} fields, expected {len(HEADER)} ({','.join(HEADER)})"
    if any("\ufffd" in value for value in fields):
        return "malformed row: not UTF-8 text"
    who, legacy_text, external_row_id = (value.strip() for value in fields)
    if not external_row_id:
        return "external_row_id is empty"
    if len(external_row_id) > EXTERNAL_ROW_ID_MAX:
        return f"external_row_id is longer than {EXTERNAL_ROW_ID_MAX} characters"
    if not external_row_id.isprintable():
        return "external_row_id has control characters"
    if not who:
        return "phone_or_member_no is empty"
    phone = member_no = None
    if len(who) >= PHONE_DIGITS:
        try:
            phone = member_rules.mainland_phone(who)
        except LoyaltyError:
            pass
    if phone is None:
        if not MEMBER_NO.fullmatch(who):  # the value is not echoed: it may be somebody's phone number
            return "phone_or_member_no is neither a mainland mobile number (11 digits) nor a member number"
        member_no = who
    if not WHOLE_NUMBER.fullmatch(legacy_text):
        if NEGATIVE.fullmatch(legacy_text):
            return f"legacy_points is negative ({legacy_text})"
        return f"legacy_points is not a whole number ({legacy_text[:20]!r})"
    legacy_points = int(legacy_text)
    if legacy_points > LEGACY_POINTS_MAX:
        return f"legacy_points is more than {LEGACY_POINTS_MAX}"
    points = to_points(legacy_points, program)
    if points == 0:
        return (f"legacy_points {legacy_points} converts to 0 points "
                f"({program.migration.legacy_ratio} legacy points make 1 point)")
    return LegacyRow(line, external_row_id, legacy_points, points, member_no, phone)


def migration_entry(program: Program, member: Member, legacy_points: int, points: int, imported_at: datetime,
                    now: datetime) -> tuple[LedgerEntry, int]:
    """Credit `points` to the member (debt left by refunds repaid first, `Member.add_points`): the MIGRATION
    entry to store, its lot expiring by `points.expiry.months` from `imported_at`, and what remains in the
    lot. The lot counts as earned at `imported_at`."""
    remaining = member.add_points(points)
    return LedgerEntry(
        member_id=member.id, kind=PointKind.MIGRATION, delta=points, balance_after=member.points_balance,
        description=f"原会员积分{legacy_points}分转换（{program.migration.legacy_ratio}:1）", occurred_at=now,
        expires_at=lot_expiry(program, imported_at)), remaining


async def credit_waiting(uow: UnitOfWork, context: Handling, member: Member, phone: str) -> int:
    """The number has just become the member's (bindPhoneNumber, a sign-up by phone): credit the legacy
    points waiting for it, in this transaction, each a MIGRATION entry whose lot expires from its import
    (`migration_entry`). The points credited."""
    credited = 0
    for waiting in await uow.legacy_points.waiting_for(phone):
        entry, remaining = migration_entry(context.program, member, waiting.legacy_points, waiting.points,
                                           waiting.imported_at, context.now)
        entry = await uow.points.add_entry(entry)
        await uow.points.add_lot(entry, remaining=remaining, earned_at=waiting.imported_at)
        await uow.legacy_points.mark_credited(waiting.id, entry.id, context.now)
        credited += waiting.points
    return credited


async def import_legacy_points(new_uow: Callable[[], AsyncContextManager[UnitOfWork]], program: Program,
                               lines: Iterable[str], digest: str, now: datetime,
                               rejected: Callable[[int, str], None], batch_rows: int = BATCH_ROWS) -> ImportOutcome:
    """Import a legacy-points file given as text lines, `batch_rows` rows a transaction; `digest` is the
    file's (`file_digest`), `now` the import's moment. Each rejected row is handed to `rejected` (line,
    reason), in line order, once its batch is done."""
    outcome, batch = ImportOutcome(), _Batch()
    for line, row in read_rows(lines, program):
        outcome.rows += 1
        if isinstance(row, str):
            batch.rejected.append((line, row))
        else:
            batch.rows.append(row)
        if len(batch) >= batch_rows:
            await _run_batch(new_uow, program, batch, digest, now, outcome, rejected)
            batch = _Batch()
    if len(batch):
        await _run_batch(new_uow, program, batch, digest, now, outcome, rejected)
    return outcome


async def _run_batch(new_uow, program: Program, batch: _Batch, digest: str, now: datetime, outcome: ImportOutcome,
                     rejected: Callable[[int, str], None]) -> None:
    for attempt in range(ATTEMPTS):
        try:
            async with new_uow() as uow:
                done, refused = await _import_batch(uow, program, batch.rows, digest, now)
                await uow.commit()
            break
        except WriteConflict:
            if attempt == ATTEMPTS - 1:
                raise
    refused += batch.rejected
    done.rejected = len(refused)
    outcome.add(done)
    for line, reason in sorted(refused):
        rejected(line, reason)


async def _import_batch(uow: UnitOfWork, program: Program, rows: list[LegacyRow], digest: str,
                        now: datetime) -> tuple[ImportOutcome, list[tuple[int, str]]]:
    """One batch in one transaction: its members looked up and locked set-wise, each row credited, left
    waiting, found imported already, or rejected (an unknown or closed member, an external id another row
    of this file has), then everything stored in bulk."""
    legacy = uow.legacy_points
    await legacy.lock_for_import()
    before = await legacy.imported(sorted({row.external_row_id for row in rows}))
    by_no, by_phone = await legacy.members_for_import(sorted({row.member_no for row in rows if row.member_no}),
                                                      sorted({row.phone for row in rows if row.phone}))
    done, refused = ImportOutcome(), []
    credited, waiting, changed = [], [], {}
    taken: dict[str, int] = {}  # external row id → the line of this batch that imports it
    for row in rows:
        earlier = before.get(row.external_row_id)
        if earlier is not None and (earlier[0] != digest or earlier[1] == row.line):
            done.already_imported += 1
            continue
        first_line = earlier[1] if earlier is not None else taken.get(row.external_row_id)
        if first_line is not None:
            refused.append((row.line, f"external_row_id {row.external_row_id!r} is imported already, from line "
                                      f"{first_line} of this file"))
            continue
        member = by_no.get(row.member_no) if row.member_no else by_phone.get(row.phone)
        if member is None and row.member_no:
            refused.append((row.line, f"no member has the number {row.member_no}"))
            continue
        if member is not None and member.deregistered_at is not None:
            refused.append((row.line, f"member {member.member_no} is closed (deregistered or merged)"))
            continue
        taken[row.external_row_id] = row.line
        if member is None:
            waiting.append(row)
            continue
        entry, remaining = migration_entry(program, member, row.legacy_points, row.points, now, now)
        credited.append((row, entry, remaining))
        changed[member.id] = member
        done.points_credited += row.points
    await legacy.add_imported(credited, waiting, digest, now)
    await legacy.save_balances(list(changed.values()))
    done.credited, done.waiting = len(credited), len(waiting)
    return done, refused
