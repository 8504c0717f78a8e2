"""The per-request context: who calls, what time it is, the request's id and client address, the read
connection and the loaders; and the app's services (`server.services`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from api.core.auth import Caller
from domain.program import Program
from persistence.database import Reader


@dataclass
class Context:
    services: Any  # server.services.Services: what lives as long as the app
    reader: Reader
    caller: Caller
    now: datetime
    request_id: str
    client_ip: str | None
    loaders: dict = field(default_factory=dict)  # the request's loaders, made on first use (`api.core.loaders`)
    catalog_version: int | None = None  # of the tiers and benefits, when read with the session (`tier_catalog`)

    @property
    def program(self) -> Program:
        return self.services.program

    @property
    def zone(self) -> ZoneInfo:
        return self.services.program.calendar.zone


    def after_write(self) -> None:
        """A write committed: later reads in this request must see it, not what the loaders cached."""
        self.loaders = {}
