"""What a member sees, read through the contract's queries: shared by the order, refund and offset tests.
`MemberViews(default_now)` binds the clock each file's scenarios run at."""
from __future__ import annotations

from datetime import datetime

# The week the order, refund and offset scenarios run in (Shanghai time); Tuesday is member day.
MON = "2026-03-02T10:00:00+08:00"
TUE = "2026-03-03T10:00:00+08:00"
WED = "2026-03-04T10:00:00+08:00"
THU = "2026-03-05T10:00:00+08:00"
FRI = "2026-03-06T10:00:00+08:00"
NEXT_TUE = "2026-03-10T10:00:00+08:00"


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


class MemberViews:
    def __init__(self, default_now: str):
        self.default_now = default_now

    def bound(self):
        """home, history, coupons, assert_ledger_consistent, snapshot."""
        return self.home, self.history, self.coupons, self.assert_ledger_consistent, self.snapshot

    async def home(self, api, token: str, now: str | None = None) -> dict:
        return (await api.data("MemberHome", token=token, now=now or self.default_now))["me"]

    async def _all(self, api, operation: str, field: str, token: str, now: str | None) -> list[dict]:
        found, after = [], None
        while True:
            page = (await api.data(operation, {"first": 100, "after": after}, token=token,
                                   now=now or self.default_now))["me"][field]
            found += [edge["node"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return found
            after = page["pageInfo"]["endCursor"]

    async def history(self, api, token: str, now: str | None = None) -> list[dict]:
        """The whole points ledger, newest first."""
        return await self._all(api, "PointHistory", "pointHistory", token, now)

    async def coupons(self, api, token: str, now: str | None = None) -> list[dict]:
        return await self._all(api, "MyCoupons", "coupons", token, now)

    async def assert_ledger_consistent(self, api, token: str, now: str | None = None) -> list[dict]:
        """Sum of deltas == pointsBalance, and each balanceAfter is the running sum (oldest first)."""
        entries = await self.history(api, token, now)
        balance = (await self.home(api, token, now))["pointsBalance"]
        running = 0
        for entry in reversed(entries):
            running += entry["delta"]
            assert entry["balanceAfter"] == running, entries
        assert running == balance, (balance, entries)
        return entries

    async def snapshot(self, api, token: str, now: str | None = None) -> dict:
        """Everything a refused request must leave unchanged."""
        me = await self.home(api, token, now)
        return {"balance": me["pointsBalance"], "growth": me["growthValue"], "tier": me["tier"]["code"],
                "tierExpiresAt": me["tierExpiresAt"], "history": await self.history(api, token, now),
                "coupons": await self.coupons(api, token, now)}
