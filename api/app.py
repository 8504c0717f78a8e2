"""The ASGI app: GraphQL at /graphql (GraphiQL there outside production), /healthz for load balancers."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from datetime import datetime, timezone

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL
from cross_web import HTTPException
from strawberry.types.unset import UNSET

from api.auth import Anonymous, InvalidToken, IntegrationCaller, MemberCaller, hash_api_key, member_id_from_token
from api.context import Context, Services
from api.schema import schema
from api.settings import Settings
from api.wechat import DevelopmentWeChat, WeChatClient
from domain.program import load_program
from persistence import queries
from persistence.database import Database, Reader

log = logging.getLogger("loyalty")
NOW_HEADER = "x-loyalty-now"


def request_time(request: Request, settings: Settings) -> datetime:
    """One instant per request. Outside production, X-Loyalty-Now sets it (a test clock)."""
    header = request.headers.get(NOW_HEADER)
    if header is None or settings.is_production:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(header)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise HTTPException(400, "X-Loyalty-Now must be an ISO 8601 date-time with an offset.")
    return moment


async def identify(request: Request, services: Services, reader: Reader):
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return Anonymous()
        try:
            return MemberCaller(member_id_from_token(services.settings.secret_key, token.strip()))
        except InvalidToken:
            return Anonymous()
    api_key = request.headers.get("x-api-key")
    if api_key:
        row = await queries.active_api_key(reader, hash_api_key(api_key.strip()))
        if row is not None:
            return IntegrationCaller(api_key_id=row.id, name=row.name)
    return Anonymous()


class LoyaltyGraphQL(GraphQL):
    def __init__(self, services: Services):
        super().__init__(schema, graphql_ide=None if services.settings.is_production else "graphiql",
                         allow_queries_via_get=False)
        self.services = services

    async def run(self, request, context=UNSET, root_value=UNSET):
        if request.scope.get("type") != "http":
            raise HTTPException(404, "Not Found")
        reader = Reader(self.services.database)
        try:
            context = Context(services=self.services, reader=reader,
                              caller=await identify(request, self.services, reader),
                              now=request_time(request, self.services.settings))
            return await super().run(request, context=context)
        finally:
            await reader.close()


def build_services(settings: Settings) -> Services:
    wechat = (WeChatClient(settings.wechat_appid, settings.wechat_secret)
              if settings.wechat_appid and settings.wechat_secret else None)
    if wechat is None:
        if settings.is_production:
            raise RuntimeError("LOYALTY_WECHAT_APPID and LOYALTY_WECHAT_SECRET are required in production")
        wechat = DevelopmentWeChat()
    return Services(settings=settings, program=load_program(settings.program_path),
                    database=Database(settings.database_url), wechat=wechat)


async def check_catalog(services: Services) -> None:
    """Refuse to serve a program whose tiers the database does not hold (a switch without `db upgrade`)."""
    reader = Reader(services.database)
    try:
        codes = await queries.tier_codes(reader)
    finally:
        await reader.close()
    expected = [tier.code for tier in services.program.tiers]
    if codes != expected:
        raise RuntimeError(f"the database holds tiers {codes}, program {services.program.name!r} has {expected}: "
                           "run `loyalty db upgrade` first")


def create_app(settings: Settings | None = None, services: Services | None = None) -> Starlette:
    services = services or build_services(settings or Settings.from_env())

    @asynccontextmanager
    async def lifespan(_app):
        await check_catalog(services)
        yield
        await services.database.dispose()

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "program": services.program.name})

    graphql = LoyaltyGraphQL(services)
    app = Starlette(routes=[
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
    ], lifespan=lifespan)
    app.state.services = services
    return app
