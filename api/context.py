"""What lives as long as the app (Services), and the per-request context: who calls, what time it
is, the request's id and client address, the read connection and the loaders."""
from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from api.auth import Caller
from api.dataloaders import Loaders
from api.passwords import Argon2PasswordHasher
from api.rate_limits import RateLimits, rate_limits_from
from api.settings import Settings
from api.wechat import DevelopmentWeChat, WeChatClient
from domain.program import Program
from persistence.database import Database, Reader
from persistence.personal_data import PersonalDataCipher
from persistence.unit_of_work import SqlUnitOfWork


@dataclass
class Services:
    settings: Settings
    program: Program
    database: Database
    wechat: DevelopmentWeChat | WeChatClient
    personal_data: PersonalDataCipher | None = None   # built from the settings when not given
    rate_limits: RateLimits | None = None
    passwords: Argon2PasswordHasher | None = None

    def __post_init__(self):
        self.personal_data = self.personal_data or PersonalDataCipher(self.settings.data_key,
                                                                      self.settings.old_data_keys)
        self.rate_limits = self.rate_limits or rate_limits_from(self.settings.rate_limits, self.settings.redis_url)
        self.passwords = self.passwords or Argon2PasswordHasher()


@dataclass
class Context:
    services: Services
    reader: Reader
    caller: Caller
    now: datetime
    request_id: str
    client_ip: str | None
    loaders: Loaders = field(init=False)

    def __post_init__(self):
        self.loaders = Loaders(self.reader, self.now, self.program)

    @property
    def program(self) -> Program:
        return self.services.program

    @property
    def zone(self) -> ZoneInfo:
        return self.services.program.calendar.zone

    @asynccontextmanager
    async def unit_of_work(self):
        """A write transaction for this request, on a connection taken only after the request's read
        connection went back to the pool (`Reader.released`)."""
        async with self.reader.released():
            async with SqlUnitOfWork(self.services.database, self.services.personal_data) as uow:
                yield uow

    def after_write(self) -> None:
        """A write committed: later reads in this request must see it, not what the loaders cached."""
        self.loaders = Loaders(self.reader, self.now, self.program)
