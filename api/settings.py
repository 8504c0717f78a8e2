"""Settings from the environment (the contract's names, and those the README's Security section lists)."""
from __future__ import annotations

import base64
import binascii
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from persistence.database import DEFAULT_URL, DatabaseSettings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROGRAM = ROOT / "programs" / "standard.toml"
DEV_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
# 32 bytes, base64: development and test only; production refuses to start without its own key.
DEV_DATA_KEY = base64.b64encode(b"development-only-data-key-32byte").decode()
ENVIRONMENTS = ("development", "test", "production")

# name: (requests, per seconds). Keys: the client IP, the WeChat code, the username, the member.
DEFAULT_RATE_LIMITS: dict[str, tuple[int, int]] = {
    "login_ip": (120, 60),          # loginWithWeChat and refreshAccessToken per client IP (mobile NATs are wide)
    "login_code": (5, 300),         # the same WeChat login code
    "phone_ip": (30, 60),           # bindPhoneNumber per client IP
    "phone_code": (5, 300),         # the same getPhoneNumber code
    "phone_member": (10, 3600),     # bindPhoneNumber per member
    "staff_login_ip": (20, 300),    # staffLogin per client IP
    "staff_login_user": (5, 900),   # staffLogin per username
    "member_mutations": (60, 60),   # every other mutation per member
}


@dataclass(frozen=True)
class RequestLimits:
    """What one request may ask for, checked before it runs."""

    max_depth: int = 8
    max_aliases: int = 15
    max_tokens: int = 2000
    max_fields: int = 1000
    max_query_cost: int = 1000
    max_batch: int = 5
    max_body_bytes: int = 64 * 1024
    timeout_seconds: float = 10.0


# What one instance of the API asks of its database: a statement, a wait for a row lock or a transaction
# left idle never outlasts the request's own time limit (10 s), and a wait for a pooled connection ends
# (503, retry) before it does.
API_DATABASE = DatabaseSettings(pool_size=10, max_overflow=10, pool_timeout_seconds=5.0, statement_timeout_ms=5000,
                                lock_timeout_ms=5000, idle_in_transaction_timeout_ms=10_000)


class SettingsError(RuntimeError):
    pass


def _integer(env: dict, name: str, default: int, minimum: int) -> int:
    value = env.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit() or int(value) < minimum:
        raise SettingsError(f"{name} must be a whole number, at least {minimum}")
    return int(value)


def _data_key(name: str, text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise SettingsError(f"{name} must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)")
    return key


def _rate_limits(text: str | None, environment: str) -> dict[str, tuple[int, int]]:
    """`LOYALTY_RATE_LIMITS`: "off", or name=requests/seconds pairs overriding the defaults
    ("login_ip=60/60,member_mutations=30/60"). Under LOYALTY_ENV=test they are off unless set."""
    if text is None:
        return {} if environment == "test" else dict(DEFAULT_RATE_LIMITS)
    if text.strip().lower() == "off":
        return {}
    limits = dict(DEFAULT_RATE_LIMITS)
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, rate = item.partition("=")
        requests, _, seconds = rate.partition("/")
        if name not in DEFAULT_RATE_LIMITS or not requests.isdigit() or not seconds.isdigit() \
                or int(requests) < 1 or int(seconds) < 1:
            raise SettingsError(f"LOYALTY_RATE_LIMITS: {item!r} is not name=requests/seconds with a name of "
                                f"{', '.join(DEFAULT_RATE_LIMITS)}")
        limits[name] = (int(requests), int(seconds))
    return limits


def _networks(text: str | None) -> tuple:
    try:
        return tuple(ipaddress.ip_network(part.strip()) for part in (text or "").split(",") if part.strip())
    except ValueError as exc:
        raise SettingsError(f"LOYALTY_TRUSTED_PROXIES: {exc}") from None


@dataclass(frozen=True)
class Settings:
    database_url: str
    environment: str
    secret_key: str
    program_path: Path
    access_token_ttl_seconds: int
    wechat_appid: str | None
    wechat_secret: str | None
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    data_key: bytes = base64.b64decode(DEV_DATA_KEY)
    old_data_keys: tuple[bytes, ...] = ()
    rate_limits: dict[str, tuple[int, int]] = field(default_factory=dict)
    redis_url: str | None = None
    trusted_proxies: tuple = ()
    limits: RequestLimits = RequestLimits()
    database: DatabaseSettings = API_DATABASE

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        environment = env.get("LOYALTY_ENV", "development")
        if environment not in ENVIRONMENTS:
            raise SettingsError(f"LOYALTY_ENV must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}")
        production = environment == "production"
        secret = env.get("LOYALTY_SECRET_KEY")
        if not secret:
            if production:
                raise SettingsError("LOYALTY_SECRET_KEY is required in production")
            secret = DEV_SECRET_KEY
        if production and len(secret) < 32:
            raise SettingsError("LOYALTY_SECRET_KEY must be at least 32 characters in production")
        if not env.get("LOYALTY_DATA_KEY") and production:
            raise SettingsError("LOYALTY_DATA_KEY is required in production (32 bytes in base64)")
        data_key = _data_key("LOYALTY_DATA_KEY", env.get("LOYALTY_DATA_KEY") or DEV_DATA_KEY)
        old_keys = tuple(_data_key("LOYALTY_DATA_OLD_KEYS", part)
                         for part in (env.get("LOYALTY_DATA_OLD_KEYS") or "").split(",") if part.strip())
        program = Path(env.get("LOYALTY_PROGRAM") or DEFAULT_PROGRAM)
        if not program.is_absolute() and not program.exists():
            program = ROOT / program
        defaults = RequestLimits()
        return cls(
            database_url=env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{ROOT / DEFAULT_URL.split(':///')[1]}",
            environment=environment,
            secret_key=secret,
            program_path=program,
            access_token_ttl_seconds=_integer(env, "LOYALTY_ACCESS_TOKEN_TTL", 15 * 60, 60),
            refresh_token_ttl_seconds=_integer(env, "LOYALTY_REFRESH_TOKEN_TTL", 30 * 24 * 3600, 3600),
            wechat_appid=env.get("LOYALTY_WECHAT_APPID") or None,
            wechat_secret=env.get("LOYALTY_WECHAT_SECRET") or None,
            data_key=data_key,
            old_data_keys=old_keys,
            rate_limits=_rate_limits(env.get("LOYALTY_RATE_LIMITS"), environment),
            redis_url=env.get("REDIS_URL") or None,
            trusted_proxies=_networks(env.get("LOYALTY_TRUSTED_PROXIES")),
            limits=RequestLimits(
                max_depth=_integer(env, "LOYALTY_MAX_QUERY_DEPTH", defaults.max_depth, 2),
                max_aliases=_integer(env, "LOYALTY_MAX_ALIASES", defaults.max_aliases, 1),
                max_tokens=_integer(env, "LOYALTY_MAX_TOKENS", defaults.max_tokens, 100),
                max_fields=_integer(env, "LOYALTY_MAX_FIELDS", defaults.max_fields, 10),
                max_query_cost=_integer(env, "LOYALTY_MAX_QUERY_COST", defaults.max_query_cost, 10),
                max_batch=_integer(env, "LOYALTY_MAX_BATCH", defaults.max_batch, 1),
                max_body_bytes=_integer(env, "LOYALTY_MAX_BODY_BYTES", defaults.max_body_bytes, 1024),
                timeout_seconds=_integer(env, "LOYALTY_REQUEST_TIMEOUT", int(defaults.timeout_seconds), 1),
            ),
            database=DatabaseSettings(
                pool_size=_integer(env, "LOYALTY_DB_POOL_SIZE", API_DATABASE.pool_size, 1),
                max_overflow=_integer(env, "LOYALTY_DB_MAX_OVERFLOW", API_DATABASE.max_overflow, 0),
                pool_timeout_seconds=_integer(env, "LOYALTY_DB_POOL_TIMEOUT", int(API_DATABASE.pool_timeout_seconds), 1),
                statement_timeout_ms=_integer(env, "LOYALTY_DB_STATEMENT_TIMEOUT_MS", API_DATABASE.statement_timeout_ms, 100),
                lock_timeout_ms=_integer(env, "LOYALTY_DB_LOCK_TIMEOUT_MS", API_DATABASE.lock_timeout_ms, 100),
                idle_in_transaction_timeout_ms=_integer(env, "LOYALTY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS",
                                                        API_DATABASE.idle_in_transaction_timeout_ms, 100),
            ),
        )
