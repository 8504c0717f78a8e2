"""Settings from the environment (names fixed by ../shared/contract/README.md)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from persistence.database import DEFAULT_URL

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROGRAM = ROOT / "programs" / "standard.toml"
DEV_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
ENVIRONMENTS = ("development", "test", "production")


class SettingsError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    database_url: str
    environment: str
    secret_key: str
    program_path: Path
    access_token_ttl_seconds: int
    wechat_appid: str | None
    wechat_secret: str | None

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        environment = env.get("LOYALTY_ENV", "development")
        if environment not in ENVIRONMENTS:
            raise SettingsError(f"LOYALTY_ENV must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}")
        secret = env.get("LOYALTY_SECRET_KEY")
        if not secret:
            if environment == "production":
                raise SettingsError("LOYALTY_SECRET_KEY is required in production")
            secret = DEV_SECRET_KEY
        ttl = env.get("LOYALTY_ACCESS_TOKEN_TTL", "7200")
        if not ttl.isdigit() or int(ttl) < 60:
            raise SettingsError("LOYALTY_ACCESS_TOKEN_TTL must be a number of seconds, at least 60")
        program = Path(env.get("LOYALTY_PROGRAM") or DEFAULT_PROGRAM)
        if not program.is_absolute() and not program.exists():
            program = ROOT / program
        return cls(
            database_url=env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{ROOT / DEFAULT_URL.split(':///')[1]}",
            environment=environment,
            secret_key=secret,
            program_path=program,
            access_token_ttl_seconds=int(ttl),
            wechat_appid=env.get("LOYALTY_WECHAT_APPID") or None,
            wechat_secret=env.get("LOYALTY_WECHAT_SECRET") or None,
        )
