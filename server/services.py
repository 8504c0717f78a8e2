"""What lives as long as the app: settings, the program, the database, WeChat, the personal-data
cipher, the rate limits and the password hasher. Built once per process (`server.app.build_services`)."""
from __future__ import annotations

from dataclasses import dataclass, field

from api.core.rate_limits import RateLimits, rate_limits_from
from domain.clock import Clock, SystemClock
from domain.program import Program
from domain.service import Service
from domain.sms import SmsSender
from domain.wechat import WeChat
from persistence.database import Database
from persistence.personal_data import PersonalDataCipher
from persistence.unit_of_work import SqlUnitOfWork
from server.passwords import Argon2PasswordHasher
from server.settings import Settings
from server.sms import DevelopmentSms


@dataclass
class Services:
    settings: Settings
    program: Program
    database: Database
    wechat: WeChat
    sms: SmsSender | None = field(default_factory=lambda: DevelopmentSms())  # None: no SMS sign-in (production
    # without a provider); `server.app.build_services` decides from the settings
    personal_data: PersonalDataCipher | None = None   # built from the settings when not given
    rate_limits: RateLimits | None = None
    passwords: Argon2PasswordHasher | None = None
    clock: Clock = SystemClock()
    service: Service | None = None   # the service layer: every write goes through it
    program_data: dict = field(default_factory=dict)  # rows of the program's, read once (`tier_catalog`)

    def __post_init__(self):
        self.personal_data = self.personal_data or PersonalDataCipher(self.settings.data_key,
                                                                      self.settings.old_data_keys)
        self.rate_limits = self.rate_limits or rate_limits_from(self.settings.rate_limits, self.settings.redis_url)
        self.passwords = self.passwords or Argon2PasswordHasher()
        self.service = self.service or Service(self.program, lambda: SqlUnitOfWork(self.database, self.personal_data),
                                               self.clock, self.passwords)
