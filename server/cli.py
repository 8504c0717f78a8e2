"""The `loyalty` command: db upgrade, seed demo, serve, apikey create, staff create, export-schema, jobs,
worker, verify, report, import legacy-points."""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import datetime

from domain.access import ALL_SCOPES, Role
from domain.clock import SystemClock
from domain.errors import LoyaltyError, ProgramError
from domain.program import load_program
from persistence.database import Database
from server.settings import Settings, SettingsError

CLOCK = SystemClock()  # the one clock of every command
# How `serve` runs uvicorn (bench/floor.py serves the same way): uvloop's event loop and httptools' parser
# (uvicorn's standard extras), and no access log of uvicorn's own (the app logs one line per request).
UVICORN_SETTINGS = {"loop": "uvloop", "http": "httptools", "log_config": None, "access_log": False}


def _settings() -> Settings:
    return Settings.from_env()


async def _with_database(settings: Settings, work):
    database = Database(settings.database_url)
    try:
        return await work(database)
    finally:
        await database.dispose()


def db_upgrade(args) -> None:
    from persistence.migrate import upgrade

    settings = _settings()
    program = load_program(settings.program_path)
    asyncio.run(_with_database(settings, lambda db: upgrade(db, program)))
    print(f"database at head; program {program.name!r} loaded ({len(program.tiers)} tiers, "
          f"{len(program.rewards)} rewards)")


def seed_demo(args) -> None:
    from api.core.auth import MEMBER_AUDIENCE, issue_access_token
    from server.demo import seed_demo as seed

    settings = _settings()
    if settings.is_production:
        _refused("seed demo makes demo members with points and prints a working token: not in production")
    program = load_program(settings.program_path)
    now = CLOCK.now()
    _, session_token_id = asyncio.run(_with_database(settings, lambda db: seed(db, program, now)))
    token, expires_at = issue_access_token(settings.secret_key, MEMBER_AUDIENCE, session_token_id, now,
                                           settings.access_token_ttl_seconds)
    print(f"demo member ready (dev WeChat code 'demo-member'); access token, valid until {expires_at.isoformat()}"
          " (then sign in again with loginWithWeChat):")
    print(f"Authorization: Bearer {token}")


def _refused(message: str) -> None:
    print(f"loyalty: {message}", file=sys.stderr)
    sys.exit(2)


def _service(settings: Settings, database: Database):
    """The service layer over `database`: every write of the CLI goes through it, as the API's do."""
    from domain.service import Service
    from persistence.unit_of_work import SqlUnitOfWork
    from server.passwords import Argon2PasswordHasher

    return Service(load_program(settings.program_path), lambda: SqlUnitOfWork(database), CLOCK,
                   passwords=Argon2PasswordHasher())


def apikey_create(args) -> None:
    from api.core.auth import new_api_key
    from domain import commands

    settings = _settings()
    key, key_hash = new_api_key()
    scopes = args.scopes.split() if args.scopes else sorted(s.value for s in ALL_SCOPES)

    async def create(database):
        await _service(settings, database).handle(commands.CreateApiKey(args.name, tuple(scopes), key_hash, key[:10],
                                                                        replacing=args.replace))

    try:
        asyncio.run(_with_database(settings, create))
    except LoyaltyError as error:
        _refused(error.message)
    print(f"API key {args.name!r} created with scopes {' '.join(scopes)}; send it as X-API-Key. It is shown once:")
    print(key)


def staff_create(args) -> None:
    from domain import commands

    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            _refused("the passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    settings = _settings()

    async def create(database):
        return await _service(settings, database).handle(commands.CreateStaff(args.username, password, args.role))

    try:
        staff = asyncio.run(_with_database(settings, create))
    except LoyaltyError as error:
        _refused(error.message)
    print(f"staff member {staff.username!r} created with role {staff.role}")


def report(args) -> None:
    """One section of `insights` over the local days [--from, --to], as CSV with a header row."""
    import contextlib
    import csv
    from datetime import date

    from domain.insights import report_range
    from server.reports import REPORTS

    program = load_program(_settings().program_path)
    try:
        span = report_range(program.calendar, date.fromisoformat(args.from_), date.fromisoformat(args.to))
    except ValueError as exc:
        _refused(str(exc))

    async def read(database: Database):
        async with database.read_engine.connect() as conn:
            return await REPORTS[args.name](conn, program, span)

    header, rows = asyncio.run(_with_database(_settings(), read))
    with open(args.csv, "w", newline="", encoding="utf-8") if args.csv else contextlib.nullcontext(sys.stdout) as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)


def verify(args) -> None:
    from persistence.integrity import find_discrepancies

    async def check(database: Database):
        async with database.read_engine.connect() as conn:
            return await find_discrepancies(conn)

    found = asyncio.run(_with_database(_settings(), check))
    for d in found:
        print(f"member {d.member_no} (id {d.member_id}): {d.check}: expected {d.expected}, found {d.found}")
    print(f"verify: {len(found)} discrepanc{'y' if len(found) == 1 else 'ies'}")
    if found:
        sys.exit(1)


def import_legacy_points(args) -> None:
    """Read the file twice, as a stream each time: its digest (what a re-run is known by), then its rows. Each
    rejected row is printed as its batch is done, then the counts; non-zero exit when any row was rejected."""
    from domain.legacy_points import LegacyFileError, file_digest
    from domain.legacy_points import import_legacy_points as import_rows
    from persistence.personal_data import PersonalDataCipher
    from persistence.unit_of_work import SqlUnitOfWork

    settings = _settings()
    program = load_program(settings.program_path)
    cipher = PersonalDataCipher(settings.data_key, settings.old_data_keys)
    path = args.file
    try:
        with open(path, "rb") as raw:
            digest = file_digest(iter(lambda: raw.read(1 << 20), b""))
    except OSError as error:
        _refused(f"cannot read {path}: {error.strerror}")

    async def run(database: Database):
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as lines:
            return await import_rows(lambda: SqlUnitOfWork(database, cipher), program, lines, digest, CLOCK.now(),
                                     lambda line, reason: print(f"line {line}: {reason}"))

    try:
        done = asyncio.run(_with_database(settings, run))
    except LegacyFileError as error:
        _refused(f"{path}: {error}; nothing imported")
    print(f"legacy points: {done.rows} rows; imported {done.imported} (credited {done.credited}, "
          f"{done.points_credited} points; waiting {done.waiting}); already imported {done.already_imported}; "
          f"rejected {done.rejected}")
    if done.rejected:
        sys.exit(1)


def _moment(text: str | None) -> datetime:
    try:
        moment = datetime.fromisoformat(text) if text else CLOCK.now()
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        print("loyalty: --now must be an ISO 8601 date-time with an offset", file=sys.stderr)
        sys.exit(2)
    return moment


def jobs_run(args) -> None:
    from server.worker import run_jobs_once

    settings = _settings()
    program = load_program(settings.program_path)
    now = _moment(args.now)
    results = asyncio.run(_with_database(settings, lambda db: run_jobs_once(db, program, now)))
    for result in results:
        print(result.describe())


def worker(args) -> None:
    from prometheus_client import start_http_server

    from server.logs import configure_logging
    from server.worker import run_worker

    settings = _settings()
    configure_logging(settings.is_production)
    program = load_program(settings.program_path)
    if args.metrics_port:
        start_http_server(args.metrics_port)
    asyncio.run(_with_database(settings, lambda db: run_worker(db, program, interval=args.interval, clock=CLOCK,
                                                               report=lambda line: print(line, flush=True))))


def data_key_rotate(args) -> None:
    from persistence.personal_data import PersonalDataCipher
    from persistence.reseal import reseal_personal_data

    settings = _settings()
    cipher = PersonalDataCipher(settings.data_key, settings.old_data_keys)
    count = asyncio.run(_with_database(settings, lambda db: reseal_personal_data(db, cipher)))
    print(f"re-sealed {count} phone numbers under data key {cipher.current_id}; the old keys can now be dropped "
          "from LOYALTY_DATA_OLD_KEYS")


def export_schema(args) -> None:
    from api.schema import schema

    sys.stdout.write(schema.as_str() + "\n")


def serve(args) -> None:
    import tempfile

    import uvicorn

    from api.core.observability import MULTIPROCESS
    from server.app import build_services, readiness_problems
    from server.logs import configure_logging

    settings = _settings()
    configure_logging(settings.is_production)
    services = build_services(settings)
    problems = asyncio.run(_ready(services, readiness_problems))
    if problems:
        for problem in problems:
            print(f"loyalty: {problem}", file=sys.stderr)
        sys.exit(2)
    if args.workers > 1:  # each worker writes its metrics here, /metrics adds them up
        os.environ[MULTIPROCESS] = tempfile.mkdtemp(prefix="loyalty-metrics-")
    uvicorn.run("server.app:served_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                **UVICORN_SETTINGS)


async def _ready(services, readiness_problems) -> list[str]:
    try:
        return await readiness_problems(services)
    finally:
        await services.database.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="loyalty", description="Member-loyalty backend")
    commands = parser.add_subparsers(dest="command", required=True)
    db = commands.add_parser("db", help="database").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="migrate to the newest schema and load the program's catalog").set_defaults(run=db_upgrade)
    seed = commands.add_parser("seed", help="sample data").add_subparsers(dest="seed_command", required=True)
    seed.add_parser("demo", help="demo members and their history").set_defaults(run=seed_demo)
    apikey = commands.add_parser("apikey", help="integration API keys").add_subparsers(dest="apikey_command", required=True)
    create = apikey.add_parser("create", help="create a key (printed once, as the last line)")
    create.add_argument("--name", required=True)
    create.add_argument("--replace", action="store_true", help="revoke the active keys of this name first")
    create.add_argument("--scopes", help="space-separated, of: " + " ".join(sorted(s.value for s in ALL_SCOPES))
                        + " (default: all of them)")
    create.set_defaults(run=apikey_create)
    staff = commands.add_parser("staff", help="staff accounts").add_subparsers(dest="staff_command", required=True)
    staff_create_parser = staff.add_parser("create", help="create a staff account; the password is read from stdin")
    staff_create_parser.add_argument("--username", required=True)
    staff_create_parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    staff_create_parser.set_defaults(run=staff_create)
    commands.add_parser("export-schema", help="print the GraphQL schema").set_defaults(run=export_schema)
    data_key = commands.add_parser("data-key", help="personal-data keys").add_subparsers(dest="data_key_command",
                                                                                        required=True)
    data_key.add_parser("rotate", help="re-seal personal data under LOYALTY_DATA_KEY (old keys in "
                        "LOYALTY_DATA_OLD_KEYS)").set_defaults(run=data_key_rotate)
    jobs = commands.add_parser("jobs", help="calendar jobs").add_subparsers(dest="jobs_command", required=True)
    jobs_parser = jobs.add_parser("run", help="run every job due now and exit")
    jobs_parser.add_argument("--now", help="the moment to run at (ISO 8601 with offset); default the real clock")
    jobs_parser.set_defaults(run=jobs_run)
    worker_parser = commands.add_parser("worker", help="run the due jobs every minute until stopped")
    worker_parser.add_argument("--interval", type=float, default=60, help="seconds between runs (default 60)")
    worker_parser.add_argument("--metrics-port", type=int, help="serve the job metrics for Prometheus on this port")
    worker_parser.set_defaults(run=worker)
    commands.add_parser("verify", help="check every member's balances against their ledgers").set_defaults(run=verify)
    report_parser = commands.add_parser("report", help="a section of the program's reports as CSV (docs/reports.md)")
    report_parser.add_argument("name", choices=["members", "tiers", "segments", "points", "liability", "rewards",
                                                "coupons", "check-ins"])
    report_parser.add_argument("--from", dest="from_", metavar="YYYY-MM-DD", required=True, help="the first local day")
    report_parser.add_argument("--to", metavar="YYYY-MM-DD", required=True, help="the last local day (inclusive)")
    report_parser.add_argument("--csv", help="write to this file (default: stdout)")
    report_parser.set_defaults(run=report)
    imports = commands.add_parser("import", help="data from other systems").add_subparsers(dest="import_command",
                                                                                          required=True)
    legacy = imports.add_parser("legacy-points", help="legacy points from a CSV file: phone_or_member_no,"
                                "legacy_points,external_row_id (converted at migration.legacy_ratio; a re-run "
                                "changes nothing)")
    legacy.add_argument("file", help="the CSV file, UTF-8, with that header")
    legacy.set_defaults(run=import_legacy_points)
    serve_parser = commands.add_parser("serve", help="serve the API")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve_parser.set_defaults(run=serve)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except (SettingsError, ProgramError) as exc:
        for line in str(exc).splitlines():
            print(f"loyalty: {line}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
