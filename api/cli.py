"""The `loyalty` command: db upgrade, seed demo, serve, apikey create, export-schema, jobs, worker, verify."""
from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime, timezone

from api.settings import Settings, SettingsError
from domain.errors import ProgramError
from domain.program import load_program
from persistence.database import Database


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
    from api.auth import issue_access_token
    from api.demo import seed_demo as seed

    settings = _settings()
    program = load_program(settings.program_path)
    now = datetime.now(timezone.utc)
    member_id = asyncio.run(_with_database(settings, lambda db: seed(db, program, now)))
    token, expires_at = issue_access_token(settings.secret_key, member_id, now, settings.access_token_ttl_seconds)
    print(f"demo member ready (dev WeChat code 'demo-member'); access token, valid until {expires_at.isoformat()}:")
    print(f"Authorization: Bearer {token}")


def apikey_create(args) -> None:
    from api.auth import new_api_key
    from persistence.api_keys import create_api_key

    settings = _settings()
    key, key_hash = new_api_key()
    asyncio.run(_with_database(settings, lambda db: create_api_key(db, args.name, key_hash, key[:10],
                                                                   datetime.now(timezone.utc))))
    print(f"API key {args.name!r} created; send it as X-API-Key. It is shown once:")
    print(key)


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


def _moment(text: str | None) -> datetime:
    try:
        moment = datetime.fromisoformat(text) if text else datetime.now(timezone.utc)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        print("loyalty: --now must be an ISO 8601 date-time with an offset", file=sys.stderr)
        sys.exit(2)
    return moment


def jobs_run(args) -> None:
    from api.worker import run_jobs_once

    settings = _settings()
    program = load_program(settings.program_path)
    now = _moment(args.now)
    results = asyncio.run(_with_database(settings, lambda db: run_jobs_once(db, program, now)))
    for result in results:
        print(result.describe())


def worker(args) -> None:
    import logging

    from api.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings()
    program = load_program(settings.program_path)
    asyncio.run(_with_database(settings, lambda db: run_worker(db, program, interval=args.interval,
                                                               report=lambda line: print(line, flush=True))))


def export_schema(args) -> None:
    from api.schema import schema

    sys.stdout.write(schema.as_str() + "\n")


def serve(args) -> None:
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(_settings()), host=args.host, port=args.port, log_level="info")


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
    create.set_defaults(run=apikey_create)
    commands.add_parser("export-schema", help="print the GraphQL schema").set_defaults(run=export_schema)
    jobs = commands.add_parser("jobs", help="calendar jobs").add_subparsers(dest="jobs_command", required=True)
    jobs_parser = jobs.add_parser("run", help="run every job due now and exit")
    jobs_parser.add_argument("--now", help="the moment to run at (ISO 8601 with offset); default the real clock")
    jobs_parser.set_defaults(run=jobs_run)
    worker_parser = commands.add_parser("worker", help="run the due jobs every minute until stopped")
    worker_parser.add_argument("--interval", type=float, default=60, help="seconds between runs (default 60)")
    worker_parser.set_defaults(run=worker)
    commands.add_parser("verify", help="check every member's balances against their ledgers").set_defaults(run=verify)
    serve_parser = commands.add_parser("serve", help="serve the API")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.set_defaults(run=serve)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except (SettingsError, ProgramError) as exc:
        print(f"loyalty: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
