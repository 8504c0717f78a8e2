"""Watching the service: Prometheus metrics at /metrics, and one log line per request (JSON in
production, readable text in development).

Metrics are labelled by operation name (every request hits /graphql), and only by the names of the
operations the clients send (`operations/`): any other name is "other", so a caller cannot grow the
metrics or the logs with names of its own. With several worker processes (`loyalty serve --workers
N`) each writes its samples under PROMETHEUS_MULTIPROC_DIR and /metrics adds them up.
"""
from __future__ import annotations

import contextvars
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from graphql import OperationDefinitionNode, parse
from prometheus_client import (
    CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event

OPERATIONS = Path(__file__).resolve().parents[2] / "operations"
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"


def _known_operations() -> frozenset[str]:
    names = set()
    for path in sorted(OPERATIONS.glob("*.graphql")):
        names |= {d.name.value for d in parse(path.read_text()).definitions
                  if isinstance(d, OperationDefinitionNode) and d.name}
    return frozenset(names)


KNOWN_OPERATIONS = _known_operations()


def operation_label(name: str | None) -> str:
    if name is None:
        return "anonymous"
    return name if name in KNOWN_OPERATIONS else "other"


REQUESTS = Counter("loyalty_operations_total", "GraphQL operations, by name and outcome (ok, user_error, "
                   "rejected, unavailable, error)", ["operation", "outcome"])
DURATION = Histogram("loyalty_operation_duration_seconds", "Time to answer a GraphQL operation", ["operation"],
                     buckets=(.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
REFUSED = Counter("loyalty_http_refusals_total", "Requests refused before GraphQL, by HTTP status", ["status"])
STATEMENTS = Histogram("loyalty_sql_statements_per_request", "SQL statements one request sent",
                       buckets=(0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50))
USER_ERRORS = Counter("loyalty_user_errors_total", "userErrors answered, by code", ["code"])
RATE_LIMITED = Counter("loyalty_rate_limited_total", "Requests refused by a rate limit, by limit", ["limit"])
CONNECTIONS_IN_USE = Gauge("loyalty_db_connections_in_use", "Pooled database connections checked out",
                           multiprocess_mode="livesum")
POOL_CAPACITY = Gauge("loyalty_db_pool_capacity", "Connections the pool may open (size + overflow)",
                      multiprocess_mode="livesum")
JOB_RUNS = Counter("loyalty_job_runs_total", "Calendar job runs, by job and result (done, nothing_due, "
                   "already_done, locked_elsewhere)", ["job", "result"])
JOB_DURATION = Histogram("loyalty_job_duration_seconds", "Time a calendar job run took", ["job"],
                         buckets=(.01, .05, .1, .5, 1, 5, 10, 30, 60, 300, 900))
JOB_MEMBERS = Counter("loyalty_job_members_total", "Members a calendar job changed", ["job"])


@dataclass
class RequestStats:
    """What one request did, for its metrics and its log line."""

    started: float = field(default_factory=time.perf_counter)
    statements: int = 0
    operations: list[str] = field(default_factory=list)
    user_errors: list[str] = field(default_factory=list)
    caller: str = "anonymous"
    refusal: str | None = None   # why the request was refused before GraphQL (a 4xx)


CURRENT = contextvars.ContextVar[RequestStats | None]("loyalty_request_stats", default=None)


def user_errors(codes: list[str]) -> None:
    """userErrors about to be answered (every one passes through here, see `api.core.mutations.Refused`)."""
    stats = CURRENT.get()
    if stats is not None:
        stats.user_errors += codes
    for code in codes:
        USER_ERRORS.labels(code).inc()


def observe_database(engines, capacity: int) -> None:
    """Count each request's statements, and the connections checked out of the pools of `engines` (once
    per engine, however many apps share it)."""
    for engine in engines:
        sync = engine.sync_engine
        if getattr(sync, "loyalty_observed", False):
            continue
        sync.loyalty_observed = True
        POOL_CAPACITY.inc(capacity)

        @event.listens_for(sync, "before_cursor_execute")
        def counted(*_args, **_kwargs):
            stats = CURRENT.get()
            if stats is not None:
                stats.statements += 1

        event.listen(sync.pool, "checkout", lambda *_: CONNECTIONS_IN_USE.inc())
        event.listen(sync.pool, "checkin", lambda *_: CONNECTIONS_IN_USE.dec())


def operation_done(name: str | None, outcome: str, seconds: float) -> None:
    label = operation_label(name)
    REQUESTS.labels(label, outcome).inc()
    DURATION.labels(label).observe(seconds)


def job_done(job: str, result: str, processed: int, seconds: float) -> None:
    JOB_RUNS.labels(job, result).inc()
    JOB_DURATION.labels(job).observe(seconds)
    if processed:
        JOB_MEMBERS.labels(job).inc(processed)


def exposition(last_job_runs: list[tuple[str, float, int]]) -> tuple[bytes, str]:
    """The metrics page: this process's metrics (or every worker's, under PROMETHEUS_MULTIPROC_DIR), and
    when each calendar job last completed a period, wherever it ran (read from the database)."""
    registry = REGISTRY
    if os.environ.get(MULTIPROCESS):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    text = generate_latest(registry)
    job_registry = CollectorRegistry()
    job_registry.register(_LastJobRuns(last_job_runs))
    return text + generate_latest(job_registry), CONTENT_TYPE_LATEST


class _LastJobRuns:
    def __init__(self, rows: list[tuple[str, float, int]]):
        self.rows = rows

    def collect(self):
        when = GaugeMetricFamily("loyalty_job_last_completed_timestamp_seconds",
                                 "When each calendar job last completed a period (any runner)", labels=["job"])
        count = GaugeMetricFamily("loyalty_job_last_processed", "Members changed in that period", labels=["job"])
        for job, completed_at, processed in self.rows:
            when.add_metric([job], completed_at)
            count.add_metric([job], processed)
        yield when
        yield count


# --- logs -------------------------------------------------------------------------------------------------------

ACCESS = logging.getLogger("loyalty.access")


def access_log(request_id: str, method: str, path: str, status: int, stats: RequestStats) -> None:
    """The request's one line: id, operations, caller kind, status, duration, statements, and why it was
    refused if it was."""
    duration_ms = round((time.perf_counter() - stats.started) * 1000, 2)
    operations = ",".join(operation_label(name) for name in stats.operations) or "-"
    STATEMENTS.observe(stats.statements)
    if status >= 400 and not stats.operations:
        REFUSED.labels(str(status)).inc()
    refusal = f": {stats.refusal}" if stats.refusal else ""
    ACCESS.log(logging.WARNING if status >= 500 else logging.INFO,
               "request %s: %s %s %s %s %s in %.2f ms, %d statements%s", request_id, method, path, operations,
               stats.caller, status, duration_ms, stats.statements, refusal,
               extra={"request_id": request_id, "method": method, "path": path, "operation": operations,
                      "caller": stats.caller, "status": status, "duration_ms": duration_ms,
                      "statements": stats.statements, "user_errors": stats.user_errors or None,
                      "refusal": stats.refusal})
