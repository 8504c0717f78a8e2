"""The floor of bench/serve.py: the member app's four read operations answered as a careful engineer would
hand-write them, to show how far the project is from what the same answer costs.

    DATABASE_URL=… LOYALTY_SECRET_KEY=… .venv/bin/python bench/floor.py --port 8001 [--workers 1]

POST /graphql with `operationName` MemberHome, MyCoupons, PointHistory or RewardCatalog (recognised by that
name, the document is not parsed; `variables.first` is read, `after` and `status` must be absent) answers
the same JSON `data` as the project for the same member and moment: bench/serve.py compares the two
before it measures. GET /readyz answers once the pool is open.

How: an asyncpg pool (no SQLAlchemy) of the project's size, one SQL statement per request (the session
and the member read together, by the access token's session id, with whatever else the answer needs),
the tiers and benefits read once at start and held in memory, the JWT checked in Python. It is served
by the same uvicorn with the same options as `loyalty serve` (`server.cli.UVICORN_SETTINGS`), and writes
its answers with the project's encoder (`server.http.encode_json`). It reads the project's settings
(`server.settings.Settings`: database URL, secret key, data key, pool size) and uses the domain's pure
rules (calendar, check-in points) and the sealed-phone format, as a hand-written service would. The
catalog (RewardCatalog) is public: the floor reads no session for it, token or not. What the process
process sets its garbage collector as the project's do (see `create_app`).
"""
from __future__ import annotations

import argparse
import base64
import gc
import json
import sys
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import jwt
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from domain.clock import validity_cutoff  # noqa: E402
from domain.program import load_program  # noqa: E402
from domain.rules import check_in_points  # noqa: E402
from persistence.personal_data import PersonalDataCipher, phone_place  # noqa: E402
from server.settings import Settings  # noqa: E402

try:
    from server.cli import UVICORN_SETTINGS  # noqa: E402
except ImportError:  # a project before it named them: what its `serve` passed to uvicorn.run
    UVICORN_SETTINGS = {"log_config": None, "access_log": False}
try:
    from server.app import quiet_garbage_collector  # noqa: E402
except ImportError:  # a project before it had one
    def quiet_garbage_collector() -> None:
        gc.collect()
        gc.freeze()
try:
    from server.http import encode_json  # noqa: E402
except ImportError:  # a project before it had its own: strawberry's default
    def encode_json(data) -> str:
        return json.dumps(data, separators=(",", ":"))

MEMBER_AUDIENCE = "loyalty-member"
MAX_PAGE = 100

# Every statement finds the member through a live session named by the token (`sessions.token_id`).
MEMBER_HOME = """
SELECT m.id, m.member_no, m.nickname, m.phone_sealed, m.birthday, m.tier_code, m.growth_value,
       m.tier_expires_at, m.points_balance, e.points AS expiring_points, e.expires_at AS expiring_at,
       t.streak_days AS today_streak, t.points_awarded AS today_points, y.streak_days AS yesterday_streak
FROM sessions AS s
JOIN members AS m ON m.id = s.member_id
CROSS JOIN LATERAL (SELECT sum(remaining) AS points, min(expires_at) AS expires_at FROM points_lots
                    WHERE member_id = m.id AND remaining > 0 AND expires_at >= $2 AND expires_at <= $3) AS e
LEFT JOIN check_ins AS t ON t.member_id = m.id AND t.local_date = $4
LEFT JOIN check_ins AS y ON y.member_id = m.id AND y.local_date = $5
WHERE s.token_id = $1 AND s.revoked_at IS NULL
"""

# One row per coupon of the page (or one row of nulls), each with the member's id and the total count.
MY_COUPONS = """
SELECT m.id AS member_id, n.total, c.id, c.title, c.kind, c.min_spend, c.discount_amount, c.discount_percent,
       c.valid_from, c.valid_until, c.status, c.source, c.applied_discount
FROM sessions AS s
JOIN members AS m ON m.id = s.member_id
CROSS JOIN LATERAL (SELECT count(*) AS total FROM coupons WHERE member_id = m.id) AS n
LEFT JOIN LATERAL (SELECT * FROM coupons WHERE member_id = m.id ORDER BY id DESC LIMIT $2) AS c ON true
WHERE s.token_id = $1 AND s.revoked_at IS NULL
ORDER BY c.id DESC
"""

POINT_HISTORY = """
SELECT m.id AS member_id, p.id, p.kind, p.delta, p.balance_after, p.description, p.occurred_at, p.expires_at
FROM sessions AS s
JOIN members AS m ON m.id = s.member_id
LEFT JOIN LATERAL (SELECT id, kind, delta, balance_after, description, occurred_at, expires_at
                   FROM point_entries WHERE member_id = m.id ORDER BY id DESC LIMIT $2) AS p ON true
WHERE s.token_id = $1 AND s.revoked_at IS NULL
ORDER BY p.id DESC
"""

# The catalog is public: no session to check. Its stock changes with every redemption, so it is read.
REWARD_CATALOG = """
SELECT id, name, description, kind, points_cost, stock, min_tier_level, sort_order FROM rewards
WHERE active ORDER BY sort_order, id LIMIT $1
"""

TIERS = "SELECT id, code, name, level, growth_threshold FROM tiers WHERE level >= 1 ORDER BY level"
BENEFITS = """
SELECT b.id, b.code, b.name, b.description, t.level FROM benefits AS b JOIN tiers AS t ON t.code = b.tier_code
WHERE t.level >= 1 ORDER BY t.level, b.sort_order, b.id
"""

STATEMENTS = {"MemberHome": MEMBER_HOME, "MyCoupons": MY_COUPONS, "PointHistory": POINT_HISTORY,
              "RewardCatalog": REWARD_CATALOG}


class Refused(Exception):
    """Answered as a GraphQL error: the harness counts any."""


def global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def cursor(*key: int) -> str:
    return base64.urlsafe_b64encode(":".join(map(str, key)).encode()).decode()


def naive_utc(moment: datetime) -> datetime:
    """How the project's columns hold an instant (timestamp without time zone, in UTC)."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def page_size(variables: dict) -> int:
    first = variables.get("first")
    if not isinstance(first, int) or not 0 <= first <= MAX_PAGE:
        raise Refused(f"first must be between 0 and {MAX_PAGE}")
    if variables.get("after") is not None or variables.get("status") is not None:
        raise Refused("the floor answers first pages of every status only")
    return first


def page_info(edges: list, more: bool) -> dict:
    return {"hasNextPage": more, "endCursor": edges[-1]["cursor"] if edges else None}


class Floor:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.program = load_program(settings.program_path)
        self.zone = self.program.calendar.zone
        self.cipher = PersonalDataCipher(settings.data_key, settings.old_data_keys)
        self.pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        size = self.settings.database.pool_size + self.settings.database.max_overflow
        # No reset query on release (asyncpg's default is one more round trip per request): these connections
        # only ever run single statements outside a transaction, and change no session state.
        self.pool = await asyncpg.create_pool(self.settings.database_url.replace("+asyncpg", ""),
                                              min_size=self.settings.database.pool_size, max_size=size,
                                              reset=_keep_as_is)
        async with self.pool.acquire() as conn:
            tiers = await conn.fetch(TIERS)
            benefits = await conn.fetch(BENEFITS)
        # The static program data, as the answers show it.
        self.tier = {t["code"]: {"id": global_id("Tier", t["id"]), "code": t["code"], "name": t["name"],
                                 "level": t["level"]} for t in tiers}
        self.next_tier = {t["code"]: (n["growth_threshold"], {"id": global_id("Tier", n["id"]), "code": n["code"],
                                                              "name": n["name"], "level": n["level"],
                                                              "growthThreshold": n["growth_threshold"]})
                          for t, n in zip(tiers, tiers[1:])}
        self.benefits = {t["code"]: [{"id": global_id("Benefit", b["id"]), "code": b["code"], "name": b["name"],
                                      "description": b["description"]} for b in benefits if b["level"] <= t["level"]]
                         for t in tiers}

    async def stop(self) -> None:
        await self.pool.close()

    def local(self, moment: datetime | None) -> str | None:
        """As the API writes a DateTime: in the program's zone, to the millisecond."""
        if moment is None:
            return None
        return moment.replace(tzinfo=timezone.utc).astimezone(self.zone).isoformat(timespec="milliseconds")

    def session_token_id(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            raise Refused("sign in")
        try:
            return jwt.decode(token, self.settings.secret_key, algorithms=["HS256"], audience=MEMBER_AUDIENCE)["sid"]
        except (jwt.InvalidTokenError, KeyError):
            raise Refused("not a token of this service") from None

    async def fetch(self, name: str, *arguments) -> list:
        async with self.pool.acquire() as conn:
            return await conn.fetch(STATEMENTS[name], *arguments)

    async def member_home(self, request: Request, variables: dict) -> dict:
        token_id, now = self.session_token_id(request), datetime.now(timezone.utc)
        calendar = self.program.calendar
        today = calendar.local_date(now)
        until = calendar.days_later_end(now, self.program.expiring_soon_days)
        rows = await self.fetch("MemberHome", token_id, naive_utc(validity_cutoff(now)), naive_utc(until), today,
                                today - timedelta(days=1))
        if not rows:
            raise Refused("no live session")
        m = rows[0]
        phone = self.cipher.open(m["phone_sealed"], phone_place(m["id"])) if m["phone_sealed"] else None
        next_threshold, next_tier = self.next_tier.get(m["tier_code"], (None, None))
        if m["today_streak"] is not None:
            check_in = {"checkedInToday": True, "streakDays": m["today_streak"], "todayReward": m["today_points"]}
        else:
            streak = m["yesterday_streak"] or 0
            check_in = {"checkedInToday": False, "streakDays": streak,
                        "todayReward": check_in_points(self.program.check_in, streak + 1)}
        expiring = None if m["expiring_points"] is None else {"points": int(m["expiring_points"]),
                                                               "expiresAt": self.local(m["expiring_at"])}
        return {"me": {
            "id": global_id("Member", m["id"]), "memberNo": m["member_no"], "nickname": m["nickname"],
            "phoneMasked": mask_phone(phone), "birthday": m["birthday"].isoformat() if m["birthday"] else None,
            "tier": self.tier[m["tier_code"]], "nextTier": next_tier, "growthValue": m["growth_value"],
            "growthToNextTier": max(0, next_threshold - m["growth_value"]) if next_tier else None,
            "tierExpiresAt": self.local(m["tier_expires_at"]), "pointsBalance": m["points_balance"],
            "pointsExpiringSoon": expiring, "benefits": self.benefits[m["tier_code"]], "checkInStatus": check_in,
        }}

    async def my_coupons(self, request: Request, variables: dict) -> dict:
        token_id, first = self.session_token_id(request), page_size(variables)
        rows = await self.fetch("MyCoupons", token_id, first + 1)
        if not rows:
            raise Refused("no live session")
        cutoff = naive_utc(validity_cutoff(datetime.now(timezone.utc)))
        found = rows if rows[0]["id"] is not None else []  # a member without coupons: one row of nulls
        edges = []
        for c in found[:first]:
            if c["status"] == "USED":
                status, discount = "USED", c["applied_discount"]
            else:
                status = "AVAILABLE" if c["valid_until"] >= cutoff else "EXPIRED"
                discount = c["discount_amount"] if c["kind"] != "FREE_SHIPPING" else 0
            edges.append({"cursor": cursor(c["id"]), "node": {
                "id": global_id("Coupon", c["id"]), "title": c["title"], "kind": c["kind"], "minSpend": c["min_spend"],
                "discountAmount": discount, "discountPercent": c["discount_percent"],
                "validFrom": self.local(c["valid_from"]), "validUntil": self.local(c["valid_until"]),
                "status": status, "source": c["source"]}})
        return {"me": {"id": global_id("Member", rows[0]["member_id"]), "coupons": {
            "totalCount": rows[0]["total"], "edges": edges, "pageInfo": page_info(edges, len(found) > first)}}}

    async def point_history(self, request: Request, variables: dict) -> dict:
        token_id, first = self.session_token_id(request), page_size(variables)
        rows = await self.fetch("PointHistory", token_id, first + 1)
        if not rows:
            raise Refused("no live session")
        found = rows if rows[0]["id"] is not None else []  # a member without entries: one row of nulls
        edges = [{"cursor": cursor(p["id"]), "node": {
            "id": global_id("PointEntry", p["id"]), "kind": p["kind"], "delta": p["delta"],
            "balanceAfter": p["balance_after"], "description": p["description"],
            "occurredAt": self.local(p["occurred_at"]), "expiresAt": self.local(p["expires_at"])}}
            for p in found[:first]]
        return {"me": {"id": global_id("Member", rows[0]["member_id"]), "pointHistory": {
            "edges": edges, "pageInfo": page_info(edges, len(found) > first)}}}

    async def reward_catalog(self, request: Request, variables: dict) -> dict:
        first = page_size(variables)
        rows = await self.fetch("RewardCatalog", first + 1)
        edges = [{"cursor": cursor(r["sort_order"], r["id"]), "node": {
            "id": global_id("Reward", r["id"]), "name": r["name"], "description": r["description"], "kind": r["kind"],
            "pointsCost": r["points_cost"], "stock": r["stock"], "minTierLevel": r["min_tier_level"]}}
            for r in rows[:first]]
        return {"rewards": {"edges": edges, "pageInfo": page_info(edges, len(rows) > first)}}

    async def graphql(self, request: Request) -> Response:
        body = json.loads(await request.body())
        answer = {"MemberHome": self.member_home, "MyCoupons": self.my_coupons, "PointHistory": self.point_history,
                  "RewardCatalog": self.reward_catalog}.get(body.get("operationName"))
        try:
            if answer is None:
                raise Refused(f"the floor does not answer {body.get('operationName')!r}")
            result = {"data": await answer(request, body.get("variables") or {})}
        except Refused as refusal:
            result = {"data": None, "errors": [{"message": str(refusal)}]}
        return Response(encode_json(result), media_type="application/json")


async def _keep_as_is(connection) -> None:
    pass


def create_app() -> Starlette:
    floor = Floor(Settings.from_env())

    @asynccontextmanager
    async def lifespan(_app):
        await floor.start()
        # The garbage collector as the project's processes set it (`server.app.quiet_garbage_collector`:
        # what was imported frozen out of its sight, the youngest generation collected less often), so
        # that neither side wins on it; a tree without it gets gc.freeze() alone.
        quiet_garbage_collector()
        yield
        await floor.stop()

    async def readyz(_request: Request) -> Response:
        return Response(encode_json({"status": "ready"}), media_type="application/json")

    return Starlette(routes=[Route("/graphql", floor.graphql, methods=["POST"]), Route("/readyz", readyz)],
                     lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run("floor:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                app_dir=str(Path(__file__).resolve().parent), **UVICORN_SETTINGS)


if __name__ == "__main__":
    main()
