"""The per-request context: who calls, what time it is, the read connection and the loaders."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from api.auth import Caller
from api.dataloaders import Loaders
from api.settings import Settings
from api.wechat import DevelopmentWeChat, WeChatClient
from domain.program import Program
from persistence.database import Database, Reader
from persistence.unit_of_work import SqlUnitOfWork


@dataclass
class Services:
    """What lives as long as the app: settings, program, database, WeChat."""

    settings: Settings
    program: Program
    database: Database
    wechat: DevelopmentWeChat | WeChatClient


@dataclass
class Context:
    services: Services
    reader: Reader
    caller: Caller
    now: datetime
    loaders: Loaders = field(init=False)

    def __post_init__(self):
        self.loaders = Loaders(self.reader, self.now, self.program)

    @property
    def program(self) -> Program:
        return self.services.program

    @property
    def zone(self) -> ZoneInfo:
        return self.services.program.calendar.zone

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.services.database)

    async def after_write(self) -> None:
        """A write committed: later reads in this request must see it, not a cached or older view."""
        await self.reader.refresh()
        self.loaders = Loaders(self.reader, self.now, self.program)
