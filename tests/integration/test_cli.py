"""The operator commands the contract names, run as a user would, on a scratch SQLite file."""
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from persistence.migrate import head_revision
from tests.conftest import production_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    env = dict(os.environ, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('cli') / 'cli.db'}",
               LOYALTY_ENV="test", LOYALTY_SECRET_KEY="cli-secret-key-cli-secret-key-cli-secret")

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        if check:
            assert done.returncode == 0, done.stderr
        return done

    run.env = env
    return run


def ledger_counts(cli) -> tuple[int, int]:
    import sqlite3

    with sqlite3.connect(cli.env["DATABASE_URL"].split("///", 1)[1]) as conn:
        return (conn.execute("SELECT count(*) FROM members").fetchone()[0],
                conn.execute("SELECT count(*) FROM point_entries").fetchone()[0])


def test_upgrade_seed_key_and_verify(cli):
    assert "program 'standard' loaded (4 tiers, 5 rewards)" in cli("db", "upgrade").stdout
    cli("seed", "demo")
    counts = ledger_counts(cli)
    assert counts[0] == 2 and counts[1] > 10
    cli("seed", "demo")
    assert ledger_counts(cli) == counts  # a second run adds nothing
    key = cli("apikey", "create", "--name", "pos").stdout.strip().splitlines()[-1]
    assert key.startswith("lk_") and len(key) > 40
    assert cli("verify").stdout.strip().endswith("0 discrepancies")


async def test_printed_key_and_token_authenticate(cli):
    from server.app import create_app
    from server.settings import Settings

    cli("db", "upgrade")
    token = cli("seed", "demo").stdout.strip().splitlines()[-1].removeprefix("Authorization: Bearer ")
    key = cli("apikey", "create", "--name", "pos").stdout.strip().splitlines()[-1]
    app = create_app(Settings.from_env(cli.env))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cli") as client:
        me = (await client.post("/graphql", json={"query": "{ me { nickname } }"},
                                headers={"Authorization": f"Bearer {token}"})).json()
        assert me["data"]["me"]["nickname"] == "小满"
        order = (await client.post("/graphql", headers={"X-API-Key": key}, json={
            "query": "mutation { recordOrder(input: {memberId: \"TWVtYmVyOjk5OTk=\", externalId: \"x\", amount: 1, "
                     "channel: APP, paidAt: \"2026-01-01T00:00:00+08:00\"}) { userErrors { code } } }"})).json()
        assert order["data"]["recordOrder"]["userErrors"] == [{"code": "NOT_FOUND"}]
    await app.state.services.database.dispose()


def test_jobs_run_twice_and_the_ledgers_still_agree(cli):
    cli("db", "upgrade")
    cli("seed", "demo")
    # two years on, every demo lot has expired and every tier has been through retention
    first = cli("jobs", "run", "--now", "2099-01-01T00:00:00+08:00").stdout
    assert "points_expiry 2099-01-01: 2 members" in first
    again = cli("jobs", "run", "--now", "2099-01-01T08:00:00+08:00").stdout
    assert "points_expiry 2099-01-01: already done" in again
    assert cli("verify").stdout.strip().endswith("0 discrepancies")
    refused = cli("jobs", "run", "--now", "tomorrow", check=False)
    assert refused.returncode == 2 and "--now must be an ISO 8601" in refused.stderr


def test_verify_exits_non_zero_on_a_broken_ledger(cli):
    import sqlite3

    cli("db", "upgrade")
    cli("seed", "demo")
    path = cli.env["DATABASE_URL"].split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE members SET points_balance = points_balance + 1 WHERE id = 1")
    done = cli("verify", check=False)
    assert done.returncode == 1
    assert "points balance = sum of ledger" in done.stdout
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE members SET points_balance = points_balance - 1 WHERE id = 1")


def test_bad_program_file_is_named(cli, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text((ROOT / "programs" / "standard.toml").read_text().replace('timezone = "Asia/Shanghai"',
                                                                               'timezone = "Mars/Olympus"'))
    done = subprocess.run([sys.executable, "-m", "server.cli", "db", "upgrade"], cwd=ROOT, capture_output=True, text=True,
                          env=dict(cli.env, LOYALTY_PROGRAM=str(broken)), timeout=60)
    assert done.returncode == 2
    assert "program.timezone: unknown time zone 'Mars/Olympus'" in done.stderr


def test_worker_runs_due_jobs_until_sigterm(cli):
    import signal
    import sqlite3
    import time

    cli("db", "upgrade")
    cli("seed", "demo")
    worker = subprocess.Popen([sys.executable, "-m", "server.cli", "worker", "--interval", "0.5"], cwd=ROOT,
                              env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().startswith("worker: running due jobs every 0.5 s")
        path = cli.env["DATABASE_URL"].split("///", 1)[1]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with sqlite3.connect(path) as conn:
                if conn.execute("SELECT count(*) FROM job_runs WHERE job = 'points_expiry'").fetchone()[0]:
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("the worker recorded no run")
        time.sleep(1)  # a few more ticks: each finds nothing new to do
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert out.strip().endswith("worker: stopped")
    assert cli("verify").stdout.strip().endswith("0 discrepancies")


def test_staff_accounts_take_their_password_from_stdin(cli):
    cli("db", "upgrade")
    made = subprocess.run([sys.executable, "-m", "server.cli", "staff", "create", "--username", "ops.lead", "--role",
                           "OPERATIONS_MANAGER"], cwd=ROOT, env=cli.env, input="a long enough password\n",
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert "staff member 'ops.lead' created with role OPERATIONS_MANAGER" in made.stdout
    assert "a long enough password" not in made.stdout + made.stderr
    short = subprocess.run([sys.executable, "-m", "server.cli", "staff", "create", "--username", "other", "--role",
                            "ADMIN"], cwd=ROOT, env=cli.env, input="short\n", capture_output=True, text=True,
                           timeout=60)
    assert short.returncode == 2 and "password must be 12 to 256 characters" in short.stderr
    taken = subprocess.run([sys.executable, "-m", "server.cli", "staff", "create", "--username", "ops.lead", "--role",
                            "ADMIN"], cwd=ROOT, env=cli.env, input="a long enough password\n", capture_output=True,
                           text=True, timeout=60)
    assert taken.returncode == 2 and "is taken" in taken.stderr


def test_api_keys_are_created_with_the_scopes_asked_for(cli):
    cli("db", "upgrade")
    scoped = cli("apikey", "create", "--name", "pos", "--scopes", "orders:write coupons:write").stdout
    assert "with scopes orders:write coupons:write" in scoped
    refused = cli("apikey", "create", "--name", "pos", "--scopes", "everything", check=False)
    assert refused.returncode == 2 and "unknown scope 'everything'" in refused.stderr


def test_production_names_every_missing_setting_at_once_without_a_traceback(tmp_path):
    env = {"PATH": os.environ["PATH"], "LOYALTY_ENV": "production", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "server.cli", "serve"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert all(line.startswith("loyalty: ") for line in lines)
    named = " ".join(lines)
    for setting in ("LOYALTY_SECRET_KEY", "LOYALTY_DATA_KEY", "DATABASE_URL", "LOYALTY_WECHAT_APPID"):
        assert setting in named, setting


def test_serve_on_an_unmigrated_database_says_to_upgrade_it(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'new.db'}", LOYALTY_ENV="development")
    done = subprocess.run([sys.executable, "-m", "server.cli", "serve", "--port", "0"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == "loyalty: the database is at migration none, not " \
        f"{head_revision()}: run `loyalty db upgrade` first"


def test_seed_demo_refuses_in_production(cli, tmp_path):
    env = {**cli.env, **production_env(DATABASE_URL=cli.env["DATABASE_URL"])}
    done = subprocess.run([sys.executable, "-m", "server.cli", "seed", "demo"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "not in production" in done.stderr and "Bearer" not in done.stdout


def test_a_replaced_api_key_stops_working_and_keys_do_not_pile_up(cli):
    import sqlite3

    cli("db", "upgrade")
    keys = [cli("apikey", "create", "--name", "graphiql", "--replace").stdout.strip().splitlines()[-1]
            for _ in range(3)]
    with sqlite3.connect(cli.env["DATABASE_URL"].split("///", 1)[1]) as conn:
        active = conn.execute("SELECT prefix FROM api_keys WHERE name = 'graphiql' AND revoked_at IS NULL").fetchall()
    assert active == [(keys[-1][:10],)]


def test_several_workers_share_one_metrics_page(cli):
    """`loyalty serve --workers 2`: requests land on either process, /metrics counts them all."""
    import socket
    import time

    cli("db", "upgrade")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--workers", "2"],
                              cwd=ROOT, env=cli.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        for _ in range(20):  # a new connection each: the kernel spreads them over the two processes
            assert httpx.post(f"{base}/graphql", json={"query": "query Tiers { tiers { code } }"}).status_code == 200
        page = httpx.get(f"{base}/metrics").text
    finally:
        server.terminate()
        server.wait(timeout=30)
    counted = [line for line in page.splitlines()
               if line.startswith('loyalty_operations_total{operation="Tiers",outcome="ok"}')]
    assert counted and float(counted[0].split()[-1]) == 20.0
