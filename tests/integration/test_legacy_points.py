"""Legacy points (seed 004 §十七), `loyalty import legacy-points FILE.csv`: rows converted at
`migration.legacy_ratio` (rounded down) and credited at once to members found by member number or phone
number, rows of numbers nobody has yet waiting until the number is bound (bindPhoneNumber, a sign-up by
phone), every rejected row printed with its line and reason, a re-run changing nothing, and the file read a
batch at a time. On both databases; the `database` fixture runs `loyalty verify`'s check after each test."""
from __future__ import annotations

import asyncio
import os
import sys
import tracemalloc
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, select

from domain.legacy_points import import_legacy_points
from domain.program import MigrationRule
from domain.wallet import lot_expiry
from persistence.tables import legacy_points, point_entries, points_lots
from persistence.unit_of_work import SqlUnitOfWork
from tests.api.member_views import MemberViews
from tests.conftest import BOTH_PROGRAMS, PROGRAMS, ROOT, TEST_ENV

HEADER = "phone_or_member_no,legacy_points,external_row_id"
IMPORTED = "2026-03-02T10:00:00+08:00"     # when the domain-level imports run
LATER = "2026-04-15T10:00:00+08:00"        # when the waiting numbers are bound
home, history, _, assert_ledger_consistent, _ = MemberViews(LATER).bound()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ----------------------------------------------------------------------------- helpers


async def cli(database, program, path) -> tuple[int, list[str], str]:
    """`loyalty import legacy-points PATH` as an operator runs it, on the test's database and program."""
    env = {**os.environ, **TEST_ENV, "DATABASE_URL": database.url, "LOYALTY_PROGRAM": str(PROGRAMS[program.name])}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "import", "legacy-points", str(path), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode().splitlines(), err.decode()


def csv_file(tmp_path, *rows: str, name: str = "legacy.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


async def member(api, code: str, phone: str | None = None) -> tuple[str, str, str]:
    """(token, global id, member number) of a new member, with `phone` bound."""
    payload = await api.sign_in(code, now=IMPORTED)
    token = payload["accessToken"]
    if phone:
        bound = await api.data("BindPhoneNumber", {"code": phone}, token=token, now=IMPORTED)
        assert bound["bindPhoneNumber"]["userErrors"] == [], bound
    return token, payload["member"]["id"], payload["member"]["memberNo"]


async def run_import(database, services, program, rows: list[str], now: str = IMPORTED, digest: str = "file-a",
                     batch_rows: int = 1000):
    """The import as the command runs it, at `now`: (outcome, [(line, reason)])."""
    refused = []
    outcome = await import_legacy_points(lambda: SqlUnitOfWork(database, services.personal_data), program,
                                         iter([HEADER + "\n", *(row + "\n" for row in rows)]), digest, at(now),
                                         lambda line, reason: refused.append((line, reason)), batch_rows)
    return outcome, refused


async def counts(database) -> tuple[int, int, int]:
    async with database.read_engine.connect() as conn:
        return tuple([(await conn.execute(select(func.count()).select_from(table))).scalar_one()
                      for table in (point_entries, points_lots, legacy_points)])


async def legacy_rows(database) -> list:
    async with database.read_engine.connect() as conn:
        return (await conn.execute(select(legacy_points).order_by(legacy_points.c.line))).all()


async def lots_of_entries(database, kind: str) -> list:
    async with database.read_engine.connect() as conn:
        return (await conn.execute(
            select(points_lots).join(point_entries, point_entries.c.id == points_lots.c.entry_id)
            .where(point_entries.c.kind == kind).order_by(points_lots.c.id))).all()


# ----------------------------------------------------------------------------- the command


@BOTH_PROGRAMS
async def test_the_command_credits_members_at_once_leaves_unknown_numbers_waiting_and_a_rerun_changes_nothing(
        api, database, program, tmp_path):
    ann_token, _, ann_no = await member(api, "ann")
    bob_token, _, _ = await member(api, "bob", phone="13800138001")
    gift = program.signup.points
    path = csv_file(tmp_path,
                    f"{ann_no},12399,old-1",              # 123 points: rounded down
                    " +86 138-0013-8001 ,250,old-2",      # Bob by his number, written loosely: 2
                    "13900139000,500,old-3",              # nobody's number yet: waits, 5
                    f"{ann_no},100,old-4")                # Ann again, another old account: 1
    code, out, err = await cli(database, program, path)
    assert (code, err) == (0, "")
    assert out == ["legacy points: 4 rows; imported 4 (credited 3, 126 points; waiting 1); already imported 0; "
                   "rejected 0"]
    assert (await home(api, ann_token))["pointsBalance"] == gift + 124
    assert (await home(api, bob_token))["pointsBalance"] == gift + 2
    ann = await assert_ledger_consistent(api, ann_token)
    assert [(e["kind"], e["delta"]) for e in ann[:2]] == [("MIGRATION", 1), ("MIGRATION", 123)]
    assert ann[1]["description"] == "原会员积分12399分转换（100:1）"
    rows = await legacy_rows(database)
    assert [(r.line, r.status, r.points, r.phone_index is None) for r in rows] == [
        (2, "CREDITED", 123, True), (3, "CREDITED", 2, True), (4, "WAITING", 5, False), (5, "CREDITED", 1, True)]
    assert all("13900139000" not in str(tuple(r)) for r in rows)   # a waiting number is kept as its blind index

    before = (await counts(database), await history(api, ann_token), await history(api, bob_token))
    code, out, err = await cli(database, program, path)
    assert (code, err) == (0, "")
    assert out == ["legacy points: 4 rows; imported 0 (credited 0, 0 points; waiting 0); already imported 4; "
                   "rejected 0"]
    assert (await counts(database), await history(api, ann_token), await history(api, bob_token)) == before


async def test_each_rejected_row_is_printed_with_its_line_and_reason_and_the_others_are_imported(
        api, database, program, tmp_path):
    token, _, no = await member(api, "ann")
    closed_token, _, closed_no = await member(api, "cal")
    closed = await api.data("DeregisterMember", token=closed_token, now=IMPORTED)
    assert closed["deregisterMember"]["userErrors"] == []
    path = csv_file(tmp_path,
                    f"{no},abc,r-2",
                    f"{no},1.5,r-3",
                    f"{no},-300,r-4",
                    f"{no},99,r-5",
                    f"{no},100,",
                    f"{no},100,{'x' * 129}",
                    f"{no},100,r-8",
                    f"{no},200,r-8",
                    "8888888888,100,r-10",
                    f"{no},100",
                    f'{no},"100"x,r-12',
                    ",100,r-13",
                    "138-0013,100,r-14",
                    f"{closed_no},100,r-15",
                    "",
                    "13800138002,1000000000000,r-17",
                    f"{no},{'1' * 30},r-18")
    expected = [
        "line 2: legacy_points is not a whole number ('abc')",
        "line 3: legacy_points is not a whole number ('1.5')",
        "line 4: legacy_points is negative (-300)",
        "line 5: legacy_points 99 converts to 0 points (100 legacy points make 1 point)",
        "line 6: external_row_id is empty",
        "line 7: external_row_id is longer than 128 characters",
        "line 9: external_row_id 'r-8' is imported already, from line 8 of this file",
        "line 10: no member has the number 8888888888",
        "line 11: malformed row: 2 fields, expected 3 (phone_or_member_no,legacy_points,external_row_id)",
        "line 12: malformed row: ',' expected after '\"'",
        "line 13: phone_or_member_no is empty",
        "line 14: phone_or_member_no is neither a mainland mobile number (11 digits) nor a member number",
        f"line 15: member {closed_no} is closed (deregistered or merged)",
        "line 17: legacy_points is more than 999999999999",
        "line 18: legacy_points is more than 999999999999",
    ]
    code, out, err = await cli(database, program, path)
    assert (code, err) == (1, "")
    assert out == expected + ["legacy points: 16 rows; imported 1 (credited 1, 1 points; waiting 0); "
                              "already imported 0; rejected 15"]
    assert (await home(api, token))["pointsBalance"] == program.signup.points + 1
    code, out, _ = await cli(database, program, path)   # the same answers again, and nothing more imported
    assert code == 1
    assert out == expected + ["legacy points: 16 rows; imported 0 (credited 0, 0 points; waiting 0); "
                              "already imported 1; rejected 15"]
    assert (await home(api, token))["pointsBalance"] == program.signup.points + 1


async def test_a_file_that_is_not_a_legacy_points_file_is_refused_whole(database, program, tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("phone,points,id\n13800138000,100,r-1\n", encoding="utf-8")
    code, out, err = await cli(database, program, wrong)
    assert (code, out) == (2, [])
    assert f"{wrong}: line 1 must be the header {HEADER}; nothing imported" in err
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    code, _, err = await cli(database, program, empty)
    assert code == 2 and "the file is empty" in err
    code, _, err = await cli(database, program, tmp_path / "missing.csv")
    assert code == 2 and "cannot read" in err
    assert await counts(database) == (0, 0, 0)


async def test_a_header_written_by_a_spreadsheet_and_text_that_is_not_utf8_are_handled(api, database, program,
                                                                                       tmp_path):
    _, _, no = await member(api, "ann")
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffPhone_or_member_no, legacy_points ,external_row_id\r\n".encode()
                     + f"{no},300,旧-1\r\n".encode() + f"{no},300,".encode() + "旧-2".encode("gbk") + b"\r\n")
    code, out, _ = await cli(database, program, path)
    assert code == 1
    assert out == ["line 3: malformed row: not UTF-8 text",
                   "legacy points: 2 rows; imported 1 (credited 1, 3 points; waiting 0); already imported 0; "
                   "rejected 1"]


# ----------------------------------------------------------------------------- the rules, on the import itself


@BOTH_PROGRAMS
async def test_points_convert_at_the_programs_ratio_rounded_down_and_their_lot_expires_from_the_import(
        api, database, services, program):
    token, _, no = await member(api, "ann")
    at_250 = replace(program, migration=MigrationRule(250))
    outcome, refused = await run_import(database, services, at_250,
                                        [f"{no},249,r-1", f"{no},250,r-2", f"{no},499,r-3", f"{no},12345,r-4"])
    assert refused == [(2, "legacy_points 249 converts to 0 points (250 legacy points make 1 point)")]
    assert (outcome.credited, outcome.points_credited) == (3, 1 + 1 + 49)
    lots = await lots_of_entries(database, "MIGRATION")
    assert [lot.points for lot in lots] == [1, 1, 49]
    expected = at("2027-03-02T23:59:59+08:00")           # the end of the import's local date, 12 months on
    assert lot_expiry(program, at(IMPORTED)) == expected
    assert all(lot.expires_at == expected and lot.earned_at == at(IMPORTED) for lot in lots)
    entries = await assert_ledger_consistent(api, token)
    assert [e["expiresAt"] for e in entries if e["kind"] == "MIGRATION"] == ["2027-03-02T23:59:59.000+08:00"] * 3


async def test_debt_left_by_a_refund_is_repaid_first(api, database, services, program):
    token, mid, no = await member(api, "debt")
    payload = (await api.integration("RecordOrder", {"input": {
        "memberId": mid, "externalId": "DEBT-1", "amount": 30000, "channel": "APP", "paidAt": IMPORTED}},
        now=IMPORTED))["recordOrder"]
    assert payload["userErrors"] == []
    rewards = {edge["node"]["name"]: edge["node"]["id"]
               for edge in (await api.data("RewardCatalog", {"first": 50}))["rewards"]["edges"]}
    for key in ("spend-1", "spend-2"):   # 400 points spent, 200 each
        spent = await api.data("RedeemReward", {"rewardId": rewards["免运费券"], "idempotencyKey": key}, token=token,
                               now=IMPORTED)
        assert spent["redeemReward"]["userErrors"] == []
    refunded = (await api.integration("RefundOrder", {"input": {
        "externalId": "DEBT-1", "externalRefundId": "DEBT-1-R", "amount": 30000}}, now=IMPORTED))["refundOrder"]
    assert refunded["member"]["pointsBalance"] == -300

    outcome, _ = await run_import(database, services, program, [f"{no},50000,r-1"])
    assert outcome.credited == 1
    assert (await home(api, token))["pointsBalance"] == 200
    assert [(lot.points, lot.remaining) for lot in await lots_of_entries(database, "MIGRATION")] == [(500, 200)]
    await assert_ledger_consistent(api, token)


async def test_a_rerun_with_batches_and_another_file_changes_nothing(api, database, services, program):
    """Batches of two rows, so that a repeated external id lies in another batch than its first row."""
    token, _, no = await member(api, "ann")
    rows = [f"{no},100,r-1", "13900139000,200,r-2", f"{no},300,r-3", f"{no},400,r-1", f"{no},500,r-5"]
    outcome, refused = await run_import(database, services, program, rows, batch_rows=2)
    assert (outcome.credited, outcome.waiting, outcome.already_imported) == (3, 1, 0)
    assert refused == [(5, "external_row_id 'r-1' is imported already, from line 2 of this file")]
    before = (await counts(database), await history(api, token))
    for batch_rows in (2, 3, 1000):
        again, refused_again = await run_import(database, services, program, rows, batch_rows=batch_rows)
        assert (again.imported, again.already_imported, again.rejected) == (0, 4, 1)
        assert refused_again == refused
    other, refused = await run_import(database, services, program, [f"{no},900,r-1", f"{no},900,r-9"],
                                      digest="file-b")
    assert (other.already_imported, other.credited, refused) == (1, 1, [])   # r-1: from another file, imported
    assert (await history(api, token))[1:] == before[1]
    assert (await counts(database))[2] == before[0][2] + 1


# ----------------------------------------------------------------------------- waiting numbers


async def test_points_waiting_for_a_number_are_credited_when_a_member_binds_it_expiring_from_the_import(
        api, database, services, program):
    outcome, _ = await run_import(database, services, program,
                                  ["13900139000,12345,r-1", "139 0013 9000,1000,r-2", "13900139001,700,r-3"])
    assert outcome.waiting == 3
    token, _ = await api.login("dan", now=LATER)
    bound = await api.data("BindPhoneNumber", {"code": "13900139000"}, token=token, now=LATER)
    assert bound["bindPhoneNumber"]["userErrors"] == []
    assert (await home(api, token))["pointsBalance"] == program.signup.points + 123 + 10
    entries = await assert_ledger_consistent(api, token)
    assert [(e["kind"], e["delta"], e["occurredAt"][:10], e["expiresAt"]) for e in entries[:2]] == [
        ("MIGRATION", 10, "2026-04-15", "2027-03-02T23:59:59.000+08:00"),
        ("MIGRATION", 123, "2026-04-15", "2027-03-02T23:59:59.000+08:00")]   # from the import, not the binding
    lots = await lots_of_entries(database, "MIGRATION")
    assert [(lot.earned_at, lot.expires_at) for lot in lots] == [(at(IMPORTED), at("2027-03-02T23:59:59+08:00"))] * 2
    rows = await legacy_rows(database)
    assert [(r.status, r.phone_index is None, r.credited_at) for r in rows] == [
        ("CREDITED", True, at(LATER)), ("CREDITED", True, at(LATER)), ("WAITING", False, None)]
    again = await api.data("BindPhoneNumber", {"code": "13900139000"}, token=token, now=LATER)   # the same number
    assert again["bindPhoneNumber"]["userErrors"] == []
    assert (await home(api, token))["pointsBalance"] == program.signup.points + 133
    rerun, _ = await run_import(database, services, program, ["13900139000,12345,r-1"])
    assert (rerun.already_imported, rerun.credited) == (1, 0)


async def test_points_waiting_for_a_number_are_credited_when_someone_signs_up_with_it(api, database, services,
                                                                                       program):
    await run_import(database, services, program, ["13900139002,4321,r-1"])
    sent = await api.data("RequestSmsCode", {"phone": "13900139002"}, now=LATER)
    assert sent["requestSmsCode"]["userErrors"] == []
    signed_in = (await api.data("LoginWithPhone", {"phone": "13900139002", "smsCode": "000000"},
                                now=LATER))["loginWithPhone"]
    assert signed_in["userErrors"] == []
    token = signed_in["accessToken"]
    assert (await home(api, token))["pointsBalance"] == program.signup.points + 43
    entries = await assert_ledger_consistent(api, token)
    assert [(e["kind"], e["delta"], e["expiresAt"]) for e in entries] == [
        ("MIGRATION", 43, "2027-03-02T23:59:59.000+08:00"), ("SIGNUP", program.signup.points, entries[1]["expiresAt"])]
    assert [r.status for r in await legacy_rows(database)] == ["CREDITED"]
    sent = await api.data("RequestSmsCode", {"phone": "13900139002"}, now=at(LATER) + timedelta(minutes=2))
    again = (await api.data("LoginWithPhone", {"phone": "13900139002", "smsCode": "000000"},
                            now=at(LATER) + timedelta(minutes=2)))["loginWithPhone"]
    assert again["member"] == signed_in["member"]
    assert (await home(api, token))["pointsBalance"] == program.signup.points + 43


async def test_a_number_bound_while_its_batch_is_being_imported_still_gets_the_points(api, database, services,
                                                                                     program):
    """The batch's transaction finds no member for the number and leaves its row waiting; a binding of the
    number that runs meanwhile waits for that transaction (`lock_for_import`), then credits the row."""
    token, _ = await api.login("eve", now=LATER)
    looked_up, release = asyncio.Event(), asyncio.Event()

    class HeldOpen(SqlUnitOfWork):
        async def commit(self) -> None:
            looked_up.set()
            await release.wait()
            await super().commit()

    importing = asyncio.create_task(import_legacy_points(
        lambda: HeldOpen(database, services.personal_data), program, iter([HEADER, "13900139003,900,r-1"]),
        "race", at(IMPORTED), lambda *_: None))
    await asyncio.wait_for(looked_up.wait(), 10)
    binding = asyncio.create_task(api.data("BindPhoneNumber", {"code": "13900139003"}, token=token, now=LATER))
    await asyncio.sleep(0.5)
    assert not binding.done()          # held off by the batch's transaction
    release.set()
    outcome = await importing
    assert outcome.waiting == 1
    assert (await binding)["bindPhoneNumber"]["userErrors"] == []
    assert [r.status for r in await legacy_rows(database)] == ["CREDITED"]
    assert (await home(api, token))["pointsBalance"] == program.signup.points + 9


# ----------------------------------------------------------------------------- a stream, in flat memory


async def test_the_file_is_read_a_batch_at_a_time_and_memory_does_not_grow_with_rows(api, database, services,
                                                                                      program):
    numbers = [(await member(api, code))[2] for code in ("m-1", "m-2", "m-3")]
    batch_rows, committed, ahead = 250, [0], []

    class Counted(SqlUnitOfWork):
        async def commit(self) -> None:
            await super().commit()
            committed[0] += 1

    def lines(first: int, count: int):
        """A file that is never whole anywhere: each line made when the import asks for it."""
        yield HEADER + "\n"
        for n in range(first, first + count):
            ahead.append((n - first) - committed[0] * batch_rows)   # rows read but not yet committed
            kind = n % 10
            if kind == 9:
                yield f"{numbers[0]},abc,row-{n}\n"                    # rejected
            elif kind == 8:
                yield f"139{n:08d},{100 + n % 7},row-{n}\n"            # waiting
            else:
                yield f"{numbers[n % 3]},{100 + n % 500},row-{n}\n"   # credited

    async def peak(first: int, count: int) -> tuple[int, int]:
        committed[0] = 0
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        outcome = await import_legacy_points(lambda: Counted(database, services.personal_data), program,
                                             lines(first, count), f"stream-{first}", at(IMPORTED), lambda *_: None,
                                             batch_rows)
        assert (outcome.credited, outcome.waiting, outcome.rejected) == (count * 8 // 10, count // 10, count // 10)
        return tracemalloc.get_traced_memory()[1] - start, committed[0]

    await peak(0, 1000)   # warm: statements compiled and cached, the pool filled
    tracemalloc.start()
    try:
        small, small_batches = await peak(100_000, 2_000)
        large, large_batches = await peak(200_000, 20_000)
    finally:
        tracemalloc.stop()
    assert (small_batches, large_batches) == (8, 80)
    assert max(ahead) < batch_rows       # never more than a batch read ahead of what is committed
    assert large < small * 1.5 + 256 * 1024, (small, large)   # ten times the rows, not ten times the memory
