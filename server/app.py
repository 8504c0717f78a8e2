"""The ASGI app: GraphQL at /graphql (GraphiQL there outside production), /healthz for load balancers.

Before GraphQL sees a request: its body is held to `LOYALTY_MAX_BODY_BYTES` (413 past it), it gets a
request id (the caller's X-Request-ID when it is a sane one; echoed in the response), it is read
strictly (`server.http`: every malformed request is a 4xx in JSON), the caller is identified, and its
document is parsed and measured (`api.core.document_limits`). A request that takes longer than
`LOYALTY_REQUEST_TIMEOUT` is cut off (504); a write it started runs to its end, and a retry with the
same idempotency key replays it.
"""
from __future__ import annotations

import asyncio
import gc
import hmac
import ipaddress
import logging
import re
import time
import uuid
from contextlib import asynccontextmanager
from datetime import datetime

from cross_web import HTTPException, StarletteRequestAdapter
from graphql import OperationType, specified_rules
from graphql.utilities import get_operation_ast
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api.core import observability
from api.core.access import PUBLIC_QUERIES
from api.core.auth import (
    ENDED, EXPIRED, INVALID_KEY, INVALID_TOKEN, MEMBER_AUDIENCE, Anonymous, IntegrationCaller, InvalidToken,
    MemberCaller, StaffCaller, hash_api_key, read_access_token,
)
from api.core.context import Context
from api.core.documents import DocumentRefused, PersistedDocuments, registered_documents
from api.core.errors import log_unexpected, masked
from api.members.loaders import HOME_FIELDS, home_params, prime_member
from api.schema import build_schema, register_plans
from domain.access import parse_scopes
from domain.clock import within_service_range
from domain.program import load_program
from persistence.database import Database, Reader, is_unavailable, ping
from persistence.jobs.queries import last_job_runs
from persistence.migrate import head_revision, migration_version
from persistence.sessions.queries import live_session
from persistence.staff.queries import active_api_key
from persistence.tiers.queries import tier_codes
from server.cors import Cors
from server.graphiql import GRAPHIQL_FILES, graphiql_page
from server.http import (
    JSON, JSON_TYPES, REQUEST_ID_HEADER, answer_type, decode_json, encode_json, error_response, graphql_status,
    media_type, operations, query_parameters, refused, typed,
)
from server.logs import configure_logging
from server.services import Services
from server.settings import Settings
from server.sms import AliyunSms, DevelopmentSms, TencentSms
from server.wechat import DevelopmentWeChat, WeChatAppClient, WeChatClient, WeChatPlatforms

log = logging.getLogger("loyalty")
VALIDATION_RULES = tuple(specified_rules)  # what strawberry validates with
NOW_HEADER = "x-loyalty-now"
QUIET_PATHS = {"/healthz", "/readyz", "/metrics"}  # probes and scrapes: not worth a log line each
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_time(request: Request, services: Services) -> datetime:
    """One instant per request, from the services' clock. Outside production, X-Loyalty-Now sets it (a
    test clock, as a payment provider's)."""
    header = request.headers.get(NOW_HEADER)
    if header is None or services.settings.is_production:
        return services.clock.now()
    try:
        moment = datetime.fromisoformat(header)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise HTTPException(400, "X-Loyalty-Now must be an ISO 8601 date-time with an offset.")
    if not within_service_range(moment):
        raise HTTPException(400, "X-Loyalty-Now must fall between 1970 and 2199.")
    return moment


def client_ip(request: Request, settings: Settings) -> str | None:
    """The client's address: the peer's, or behind proxies listed in LOYALTY_TRUSTED_PROXIES, the last
    address in X-Forwarded-For that is not one of them (the rest of that header anyone can write)."""
    peer = request.client.host if request.client else None
    chain = [peer] + [hop.strip() for hop in reversed(request.headers.get("x-forwarded-for", "").split(","))
                      if hop.strip()]
    for hop in chain:
        try:
            address = ipaddress.ip_address(hop)
        except (TypeError, ValueError):
            return hop
        if not any(address in network for network in settings.trusted_proxies):
            return hop
    return chain[-1]


async def identify(request: Request, services: Services, reader: Reader, home: dict | None = None):
    """The caller, and its session's row (with a member's member row, read in the same statement, and with
    `home` their home's reads, see `api.members.loaders.home_params`): a bearer token naming a live
    session, or an active API key, or nobody. Credentials that do not hold make nobody, with the reason
    (`Anonymous.why`): an operation that needs somebody then says TOKEN_EXPIRED (refresh), TOKEN_INVALID
    (sign in again) or API_KEY_INVALID (`api.core.access.WHY`)."""
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return Anonymous(INVALID_TOKEN), None
        try:
            claims = read_access_token(services.settings.secret_key, token.strip(), services.clock.now())
        except InvalidToken:
            return Anonymous(INVALID_TOKEN), None
        session = await live_session(reader, claims.session_token_id, home)
        if session is None:
            return Anonymous(ENDED), None
        if claims.expired:
            return Anonymous(EXPIRED), None
        if claims.audience == MEMBER_AUDIENCE:
            if session.session_member_id is None:
                return Anonymous(INVALID_TOKEN), None
            return MemberCaller(session.session_member_id, session.session_id), session
        if session.staff_id is not None and session.disabled_at is None:
            return StaffCaller(session.staff_id, session.username, session.role, session.session_id), session
        return Anonymous(ENDED if session.staff_id is not None else INVALID_TOKEN), None
    api_key = request.headers.get("x-api-key")
    if api_key:
        row = await active_api_key(reader, hash_api_key(api_key.strip()))
        if row is not None:
            return IntegrationCaller(api_key_id=row.id, name=row.name, scopes=parse_scopes(row.scopes)), None
        return Anonymous(INVALID_KEY), None
    return Anonymous(), None


TIMED_OUT = ("The request took longer than {seconds} s and was cut off. A change it made may have been saved: "
             "send it again with the same idempotency key (externalId, idempotencyKey) to get its outcome; "
             "it is never applied twice.")


class RequestAdapter(StarletteRequestAdapter):
    """Strawberry's view of a Starlette request, with the request itself (for its parsed operations)."""

    @property
    def request(self) -> Request:
        return self._request


class LoyaltyGraphQL(GraphQL):
    request_adapter_class = RequestAdapter

    def __init__(self, services: Services):
        settings = services.settings
        super().__init__(build_schema(settings.limits, settings.is_production),
                         graphql_ide=None if settings.is_production else "graphiql", allow_queries_via_get=True)
        self.services = services
        self.graphiql_page = None if settings.is_production else graphiql_page()
        self.documents = PersistedDocuments.from_directory(settings.operations_dir, self.schema._schema,
                                                           settings.trusted_documents_only)
        register_plans(self.schema, registered_documents(settings.operations_dir, self.schema._schema)[1])

    def encode_json(self, data) -> bytes:
        return encode_json(data)

    def should_render_graphql_ide(self, request) -> bool:
        """GraphiQL for a browser opening /graphql: a GET asking for HTML with no operation in it. A GET that
        carries one (a persisted query's hash in `extensions`, a `documentId`) is run, whatever its Accept
        says (Apollo's hashed GETs accept `*/*`)."""
        params = request.query_params
        return (request.method == "GET" and "text/html" in request.headers.get("accept", "")
                and not any(params.get(name) for name in ("query", "extensions", "documentId")))

    async def render_graphql_ide(self, request):
        return HTMLResponse(self.graphiql_page)

    async def __call__(self, scope, receive, send):
        request_id = scope["state"]["request_id"]
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            response = refused(request_id, exc.status_code, exc.reason, media_type=answer_type_of(request))
        except DocumentRefused as exc:
            response = refused(request_id, exc.status, exc.message, exc.code, answer_type_of(request))
        await response(scope, receive, send)

    async def get_sub_response(self, request):
        """Where the answer's status and headers are decided: its media type by the request's Accept."""
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = answer_type_of(request)
        return sub_response

    def create_response(self, response_data, sub_response):
        """The answer in the media type the client accepts. Under application/graphql-response+json, a request
        that could not run (`server.http.graphql_status`) has no `data` entry and a 4xx status; under
        application/json every GraphQL answer is a 200, as clients written before the spec expect."""
        status = sub_response.status_code or 200
        if status >= 400 and isinstance(response_data, dict):
            response_data.pop("data", None)
        response = Response(self.encode_json(response_data), status_code=status,
                            media_type=typed(sub_response.media_type or JSON))
        response.headers.raw.extend(sub_response.headers.raw)
        return response

    async def run(self, request, context=UNSET, root_value=UNSET):
        if request.scope.get("type") != "http":
            raise HTTPException(404, "Not Found")
        settings = self.services.settings
        request_id = request.scope["state"]["request_id"]
        reader = Reader(self.services.database)
        try:
            async with asyncio.timeout(settings.limits.timeout_seconds):
                now = request_time(request, self.services)
                plan = self.plan_of(await self.read_operations(request), request.method)
                public = plan is not None and plan.only(PUBLIC_QUERIES)
                if public:
                    caller, session, home = Anonymous(), None, False
                else:
                    home = plan is not None and any(plan.selects("me", name) for name in HOME_FIELDS)
                    caller, session = await identify(request, self.services, reader,
                                                     home_params(self.services.program, now) if home else None)
                observability.CURRENT.get().caller = caller_kind(caller)
                context = Context(services=self.services, reader=reader, caller=caller, now=now,
                                  request_id=request_id, client_ip=client_ip(request, settings))
                if session is not None:
                    context.catalog_version = session.catalog_version
                    if isinstance(caller, MemberCaller):
                        prime_member(context, caller.member_id, session, home)
                response = await super().run(request, context=context)
                if request.method == "GET":
                    cacheable(response, public)
                return response
        except TimeoutError:
            log.error("request %s: cut off after %s s", request_id, settings.limits.timeout_seconds)
            return error_response(504, TIMED_OUT.format(seconds=settings.limits.timeout_seconds), request_id,
                                  headers={"Retry-After": "1"}, media_type=answer_type_of(request))
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            log.warning("request %s: database unavailable: %s", request_id, type(exc).__name__)
            return error_response(503, "The service is busy; retry in a moment (with the same idempotency key).",
                                  request_id, headers={"Retry-After": "1"}, media_type=answer_type_of(request))
        finally:
            await reader.close()

    async def parse_http_body(self, request_adapter):
        return await self.read_operations(request_adapter.request)

    async def read_operations(self, request: Request):
        """The request's operations, read once, strictly (see `server.http`): before the caller is
        identified, so that what a registered operation will show can be read with the session."""
        state = request.scope["state"]
        if "operations" not in state:
            if request.method == "GET":
                data = query_parameters(request.query_params)
            elif media_type(request.headers.get("content-type")) in JSON_TYPES:
                data = decode_json(await request.body())
            else:
                raise HTTPException(415, "Send GraphQL requests as application/json (or queries as GET).")
            state["operations"] = operations(data, self.services.settings.limits.max_batch, self.documents)
        return state["operations"]

    def plan_of(self, requested, method: str):
        """The plan of a request that is one registered operation: what it reads is known before anything
        runs (whether it needs the caller at all; whether it shows the member's home fields)."""
        if isinstance(requested, list) or not isinstance(requested.query, str):
            return None
        plan = self.schema.plans.get(requested.query)
        return plan if plan is not None and plan.runs(requested.operation_name, method) else None

    async def execute_operation(self, request, request_adapter, request_data, context, root_value, sub_response):
        """A JSON array of operations (batching, at most `LOYALTY_MAX_BATCH`) is priced as a whole against
        one cost limit before any of it runs, then runs one operation after another, so each sees what the
        one before it wrote. A single operation's answer gets the status the graphql-over-http spec gives
        it under application/graphql-response+json (a batch, outside the spec, is always a 200)."""
        if not isinstance(request_data, list):
            result = await super().execute_operation(request, request_adapter, request_data, context, root_value,
                                                     sub_response)
            if sub_response.media_type != JSON:
                sub_response.status_code, headers = graphql_status(result.data, result.errors)
                sub_response.headers.update(headers)
            return result
        checks = self.schema.checks
        total = sum(checks.price(self.schema._schema, data.query, data.operation_name, data.variables)
                    for data in request_data)
        if total > checks.limits.max_query_cost:
            return [ExecutionResult(data=None, errors=[checks.too_costly(total, batch=True)],
                                    extensions={"cost": checks.cost_report(total)}) for _ in request_data]
        return [await self.execute_single(request=request, request_adapter=request_adapter,
                                          sub_response=sub_response, context=context, root_value=root_value,
                                          request_data=data) for data in request_data]

    async def execute_single(self, request, request_adapter, sub_response, context, root_value, request_data):
        """A document that does not parse, or asks for more than the limits allow, is answered before
        the schema sees it. Each operation is counted and timed by its name and outcome."""
        stats, started = observability.CURRENT.get(), time.perf_counter()
        answered_user_errors = len(stats.user_errors)
        checked = self.schema.checks.checked(request_data.query) if isinstance(request_data.query, str) else None
        if request_adapter.method == "GET" and checked is not None and checked.document is not None:
            operation = get_operation_ast(checked.document, request_data.operation_name)
            if operation is not None and operation.operation != OperationType.QUERY:
                raise DocumentRefused(405, "METHOD_NOT_ALLOWED",
                                      f"A {operation.operation.value} is sent with POST: GET runs queries only.")
        name = request_data.operation_name or (checked.single_operation_name() if checked else None)
        stats.operations.append(name)
        plan = self.schema.plans.get(request_data.query) if checked is not None else None
        if checked is not None and checked.problem is not None:
            result = ExecutionResult(data=None, errors=[checked.problem],
                                     extensions={"cost": self.schema.checks.cost_report(0)})
        elif plan is not None and plan.runs(request_data.operation_name, request_adapter.method):
            result = await self.run_plan(plan, checked, request_data, context)
        else:
            result = await super().execute_single(request, request_adapter, sub_response, context, root_value,
                                                  request_data)
        for error in result.errors or ():
            if error.path is None and not (error.extensions or {}).get("code"):  # the variables did not fit
                error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
        observability.operation_done(name, outcome(result, len(stats.user_errors) > answered_user_errors),
                                     time.perf_counter() - started)
        return result

    async def run_plan(self, plan, checked, request_data, context) -> ExecutionResult:
        """A registered operation by its compiled plan (`api.core.plans`), with what strawberry's execution
        would do around it: the same checks (its validation cached since the first request), errors
        logged and masked the same way, the cost reported."""
        checks, schema = self.schema.checks, self.schema._schema
        errors, cost = checks.problems(schema, checked, request_data.operation_name, request_data.variables,
                                       VALIDATION_RULES)
        if errors:
            result = ExecutionResult(data=None, errors=errors)
        else:
            result = await plan.execute(None, context, request_data.variables, request_data.extensions)
        if result.errors:
            log_unexpected(result.errors, context.request_id)
            result = ExecutionResult(data=result.data, errors=masked(result.errors, context.request_id))
        result.extensions = {"cost": checks.cost_report(cost)}
        return result


PUBLIC_CACHE_SECONDS = 60


def cacheable(response: Response, public: bool) -> None:
    """A GET answer may be kept by a CDN or the browser when it is the same for everyone (the program's
    tiers and reward catalog, asked by a registered or persisted query): for a minute, by Accept and Origin
    (what CORS adds to it). What belongs to a caller is never stored (`private, no-store`)."""
    if public and response.status_code == 200:
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_CACHE_SECONDS}"
    else:
        response.headers["Cache-Control"] = "private, no-store"
    response.headers.append("Vary", "Accept, Origin")


def answer_type_of(request: Request) -> str:
    return answer_type(request.headers.get("accept"))


def caller_kind(caller) -> str:
    return {MemberCaller: "member", StaffCaller: "staff", IntegrationCaller: "integration"}.get(type(caller),
                                                                                                "anonymous")


def outcome(result: ExecutionResult, user_errors: bool) -> str:
    """ok, user_error (a business rule refused), rejected (auth, validation, limits), unavailable, error."""
    codes = {(error.extensions or {}).get("code") for error in result.errors or ()}
    if "INTERNAL_SERVER_ERROR" in codes:
        return "error"
    if "SERVICE_UNAVAILABLE" in codes:
        return "unavailable"
    if codes:
        return "rejected"
    return "user_error" if user_errors else "ok"


class RequestGuard:
    """ASGI middleware: a request id for every request, a body no larger than the limit, and a JSON answer
    whatever goes wrong."""

    def __init__(self, app, max_body_bytes: int):
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope.get("headers") or ()).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = given if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        stats = observability.RequestStats()
        token = observability.CURRENT.set(stats)
        status = 500

        async def observed_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._guarded(scope, receive, observed_send, request_id)
        finally:
            observability.CURRENT.reset(token)
            if scope["path"] not in QUIET_PATHS and not scope["path"].startswith("/graphiql/"):
                observability.access_log(request_id, scope["method"], scope["path"], status, stats)

    async def _guarded(self, scope, receive, send, request_id: str) -> None:
        if len(scope.get("query_string") or b"") > self.max_body_bytes:  # a GET's operation is held to the same
            response = refused(request_id, 414, f"The query string is longer than {self.max_body_bytes} bytes: "
                               "send the operation as POST.", media_type=answer_type_of(Request(scope)))
            return await response(scope, receive, send)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            return await self._too_large(scope, send, request_id)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                raise BodyTooLarge()
            return message

        async def send_with_id(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER.encode()]
                message = dict(message, headers=[*headers, (REQUEST_ID_HEADER.encode(), request_id.encode())])
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except BodyTooLarge:
            await self._too_large(scope, send, request_id)
        except Exception:
            log.exception("request %s: unexpected error", request_id)
            if not started:  # a JSON answer, even to a bug
                await error_response(500, f"Internal error; quote request id {request_id} to support.", request_id,
                                     media_type=answer_type_of(Request(scope)))(scope, receive, send)

    async def _too_large(self, scope, send, request_id: str) -> None:
        response = refused(request_id, 413, f"The request body is larger than {self.max_body_bytes} bytes.",
                           media_type=answer_type_of(Request(scope)))
        await response(scope, None, send)


class BodyTooLarge(Exception):
    pass


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """Starlette's own refusals (an unknown path, a method a route does not take) in JSON too."""
    message = {404: f"Nothing is served at {request.url.path}: the API is at /graphql.",
               405: f"{request.method} is not accepted here: send GET or POST to /graphql."}.get(exc.status_code,
                                                                                                  exc.detail)
    return refused(request.scope["state"]["request_id"], exc.status_code, message, media_type=answer_type_of(request))


def build_services(settings: Settings) -> Services:
    # Production settings always carry WeChat's credentials (Settings.from_env refuses to start without).
    mini_program = (WeChatClient(settings.wechat_appid, settings.wechat_secret)
                    if settings.wechat_appid and settings.wechat_secret else DevelopmentWeChat())
    if settings.wechat_app_appid and settings.wechat_app_secret:
        app = WeChatAppClient(settings.wechat_app_appid, settings.wechat_app_secret)
    else:  # production without the mobile app's credentials: its sign-in is off (a userError says so)
        app = WeChatClient("", "") if settings.is_production else DevelopmentWeChat()
    return Services(settings=settings, program=load_program(settings.program_path),
                    database=Database(settings.database_url, settings.database),
                    wechat=WeChatPlatforms(mini_program, app), sms=sms_sender(settings))


def sms_sender(settings: Settings):
    """The SMS provider of the settings; without one, the development stand-in (code 000000) outside
    production and no SMS sign-in in production."""
    sms = settings.sms
    if sms is None:
        return None if settings.is_production else DevelopmentSms()
    if sms.provider == "aliyun":
        return AliyunSms(sms.access_key_id, sms.access_key_secret, sms.sign_name, sms.template)
    return TencentSms(sms.access_key_id, sms.access_key_secret, sms.sdk_app_id, sms.sign_name, sms.template,
                      **({"region": sms.region} if sms.region else {}))


async def readiness_problems(services: Services) -> list[str]:
    """Why this instance cannot serve yet: the database unreachable, not migrated to the newest revision,
    or holding another program's tiers (a switch of LOYALTY_PROGRAM without `db upgrade`). None: ready."""
    reader = Reader(services.database)
    try:
        try:
            await ping(reader)
        except Exception as exc:  # noqa: BLE001 - whatever stops a connection, the answer is "not reachable"
            return [f"the database at {services.database.safe_url} is unreachable ({type(exc).__name__})"]
        version, head = await migration_version(reader), head_revision()
        if version != head:
            return [f"the database is at migration {version or 'none'}, not {head}: run `loyalty db upgrade` first"]
        codes, expected = await tier_codes(reader), [tier.code for tier in services.program.tiers]
        if codes != expected:
            return [f"the database holds tiers {codes}, program {services.program.name!r} has {expected}: run "
                    "`loyalty db upgrade` first"]
        return []
    finally:
        await reader.close()


def served_app() -> Starlette:
    """What `loyalty serve` runs in each worker process: the app of the environment's settings, logging
    as production or development wants."""
    settings = Settings.from_env()
    configure_logging(settings.is_production)
    app = create_app(settings)
    quiet_garbage_collector()
    return app


def quiet_garbage_collector() -> None:
    """What the process built to start (the schema, its plans, the program, the modules) is moved out of
    the collector's sight (`gc.freeze`), and the youngest generation is collected every 20,000
    allocations instead of 700, the older ones 50 and 1,000 times more rarely: a request allocates
    thousands of short-lived objects, which reference counting frees, and collecting every few hundred
    of them walked everything young each time. Measured on MemberHome (bench/serve.py's member): with
    Python's defaults 1.16 ms CPU a request at 1 connection and 1,110 req/s at 16; with these 0.96 ms
    and 1,176 req/s, p99 at 1 connection 3.2 ms (50,000/20/100 gave 0.99 ms but a p99 of 25 ms: each
    middle-generation collection then walked a million objects)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 1000)


def create_app(settings: Settings | None = None, services: Services | None = None) -> Starlette:
    services = services or build_services(settings or Settings.from_env())

    settings = services.settings
    observability.observe_database(services.database.engines, services.database.capacity)

    @asynccontextmanager
    async def lifespan(_app):
        problems = await readiness_problems(services)
        if problems:
            raise RuntimeError("; ".join(problems))
        yield
        await services.rate_limits.close()
        await services.database.dispose()

    async def healthz(_request: Request) -> JSONResponse:
        """Liveness: the process answers."""
        return JSONResponse({"status": "ok", "program": services.program.name})

    async def readyz(_request: Request) -> JSONResponse:
        """Readiness: the database reachable and migrated to the newest revision, the program loaded."""
        problems = await readiness_problems(services)
        return JSONResponse({"status": "not ready" if problems else "ready", "program": services.program.name,
                             "problems": problems}, status_code=503 if problems else 200)

    async def metrics(request: Request) -> Response:
        """Prometheus, behind `Authorization: Bearer $LOYALTY_METRICS_TOKEN` when that is set."""
        if settings.metrics_token and not hmac.compare_digest(request.headers.get("authorization", ""),
                                                              f"Bearer {settings.metrics_token}"):
            return error_response(401, "Send Authorization: Bearer <LOYALTY_METRICS_TOKEN> to read the metrics.",
                                  request.scope["state"]["request_id"])
        reader = Reader(services.database)
        try:
            job_runs = await last_job_runs(reader)
        except Exception as exc:  # noqa: BLE001 - the metrics of the process are still worth serving
            log.warning("metrics: calendar job runs unreadable: %s", type(exc).__name__)
            job_runs = []
        finally:
            await reader.close()
        body, content_type = observability.exposition(job_runs)
        return Response(body, media_type=content_type)

    routes = [Route("/graphql", LoyaltyGraphQL(services), methods=["GET", "POST"]), Route("/healthz", healthz),
              Route("/readyz", readyz), Route("/metrics", metrics)]
    if not services.settings.is_production:  # GraphiQL's own files, from the app (no CDN)
        routes.append(Mount("/graphiql", app=GZipMiddleware(StaticFiles(directory=GRAPHIQL_FILES))))
    middleware = [Middleware(Cors, origins=settings.cors_origins, production=settings.is_production),
                  Middleware(RequestGuard, max_body_bytes=settings.limits.max_body_bytes)]
    app = Starlette(routes=routes, middleware=middleware,
        exception_handlers={StarletteHTTPException: http_error}, lifespan=lifespan)
    app.state.services = services
    return app
