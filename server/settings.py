"""Settings from the environment (the contract's names, and those the README's Security section lists)."""
from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from api.core.document_limits import RequestLimits
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
    # requestSmsCode: each text costs money and can be abused (SMS pumping, bombing a stranger's phone)
    "sms_phone": (1, 60),           # per number: one a minute
    "sms_phone_day": (10, 86400),   # per number: ten a day
    "sms_ip": (20, 3600),           # per client IP
    "sms_day": (10000, 86400),      # all numbers together: the day's budget
}
SMS_PROVIDERS = {  # provider: the settings it needs besides LOYALTY_SMS_ACCESS_KEY_ID and _SECRET
    "aliyun": ("LOYALTY_SMS_SIGN_NAME", "LOYALTY_SMS_TEMPLATE"),
    "tencent": ("LOYALTY_SMS_SIGN_NAME", "LOYALTY_SMS_TEMPLATE", "LOYALTY_SMS_SDK_APP_ID"),
}


@dataclass(frozen=True)
class SmsSettings:
    """An SMS provider's account (`LOYALTY_SMS_*`): Alibaba Cloud SMS or Tencent Cloud SMS."""

    provider: str
    access_key_id: str
    access_key_secret: str
    sign_name: str
    template: str
    sdk_app_id: str | None = None   # Tencent's SmsSdkAppId
    region: str | None = None       # Tencent's region (ap-guangzhou by default)


def _sms(env: dict, problems: list[str]) -> SmsSettings | None:
    """`LOYALTY_SMS_PROVIDER` (aliyun or tencent) and its account; None: the development stand-in outside
    production, and no SMS sign-in in production."""
    provider = (env.get("LOYALTY_SMS_PROVIDER") or "").strip().lower()
    if not provider:
        return None
    if provider not in SMS_PROVIDERS:
        problems.append(f"LOYALTY_SMS_PROVIDER must be one of {', '.join(SMS_PROVIDERS)}, not {provider!r}")
        return None
    needed = ("LOYALTY_SMS_ACCESS_KEY_ID", "LOYALTY_SMS_ACCESS_KEY_SECRET", *SMS_PROVIDERS[provider])
    missing = [name for name in needed if not env.get(name)]
    if missing:
        problems.append(f"LOYALTY_SMS_PROVIDER={provider} needs {', '.join(missing)}")
        return None
    return SmsSettings(provider, env["LOYALTY_SMS_ACCESS_KEY_ID"], env["LOYALTY_SMS_ACCESS_KEY_SECRET"],
                       env["LOYALTY_SMS_SIGN_NAME"], env["LOYALTY_SMS_TEMPLATE"], env.get("LOYALTY_SMS_SDK_APP_ID"),
                       env.get("LOYALTY_SMS_REGION") or None)


# What one instance of the API asks of its database: a statement, a wait for a row lock or a transaction
# left idle never outlasts the request's own time limit (10 s), and a wait for a pooled connection ends
# (503, retry) before it does.
# The pool holds as many connections as requests run at once (one each): connections beyond it are
# opened and closed again per request (MemberHome at 16 connections with a pool of 10: 28 new PostgreSQL
# backends a second, a fifth of the throughput).
API_DATABASE = DatabaseSettings(pool_size=20, max_overflow=10, pool_timeout_seconds=5.0, statement_timeout_ms=5000,
                                lock_timeout_ms=5000, idle_in_transaction_timeout_ms=10_000, pre_ping=False)


class SettingsError(RuntimeError):
    """Every setting that is missing or unsafe, one line each."""


def _boolean(env: dict, name: str, problems: list[str]) -> bool:
    value = (env.get(name) or "false").strip().lower()
    if value not in ("true", "false", "1", "0"):
        problems.append(f"{name} must be true or false, not {env.get(name)!r}")
    return value in ("true", "1")


def _integer(env: dict, name: str, default: int, minimum: int, problems: list[str]) -> int:
    value = env.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit() or int(value) < minimum:
        problems.append(f"{name} must be a whole number, at least {minimum}")
        return default
    return int(value)


def _data_key(name: str, text: str, problems: list[str]) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        problems.append(f"{name} must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)")
        return base64.b64decode(DEV_DATA_KEY)
    return key


PROJECT_TEXT = (".py", ".md", ".toml", ".txt", ".graphql", ".yml", ".yaml", ".cfg", ".ini", ".json", ".sh", ".env", "")
NOT_PROJECT = {".git", ".venv", "var", "__pycache__", "node_modules", "build", "dist"}


@functools.cache
def _project_text() -> str:
    """The text of this project's own files (code, docs, tests, CI) as far as they are on this machine: the
    checkout, or where the package is installed, its own packages."""
    roots = [ROOT] if (ROOT / "pyproject.toml").exists() else [ROOT / name for name in ("api", "domain", "persistence")]
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if any(part in NOT_PROJECT or part.endswith(".egg-info") for part in path.relative_to(root).parts):
                continue
            if path.is_file() and path.suffix in PROJECT_TEXT and path.stat().st_size < 1_000_000:
                found.append(path.read_text(errors="ignore"))
    return "\n".join(found)


def published(key: str) -> bool:
    """A development default, or a key written anywhere in this project (its documentation, tests or
    examples): anyone who reads the repository has it, so what it signs or seals is no secret."""
    key = key.strip()
    return key in (DEV_SECRET_KEY, DEV_DATA_KEY) or key in _project_text()


def _production_keys(secret: str | None, data_key: str | None, problems: list[str]) -> None:
    """Production runs on keys of its own: present, long and varied enough, and not published."""
    if not secret:
        problems.append("LOYALTY_SECRET_KEY is required in production (32+ characters, e.g. `openssl rand -base64 48`)")
    elif len(secret) < 32 or len(set(secret)) < 8:
        problems.append("LOYALTY_SECRET_KEY must be at least 32 characters and not a repeated pattern in production")
    elif published(secret):
        problems.append("LOYALTY_SECRET_KEY is a published key (a development default or in this project's files): "
                        "generate your own, e.g. `openssl rand -base64 48`")
    if not data_key:
        problems.append("LOYALTY_DATA_KEY is required in production (32 bytes in base64: `openssl rand -base64 32`)")
    elif published(data_key) or len(set(_data_key("LOYALTY_DATA_KEY", data_key, []))) < 8:
        problems.append("LOYALTY_DATA_KEY is a published or patterned key (a development default or in this "
                        "project's files): generate your own with `openssl rand -base64 32`")


def _rate_limits(text: str | None, environment: str, problems: list[str]) -> dict[str, tuple[int, int]]:
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
            problems.append(f"LOYALTY_RATE_LIMITS: {item!r} is not name=requests/seconds with a name of "
                            f"{', '.join(DEFAULT_RATE_LIMITS)}")
            continue
        limits[name] = (int(requests), int(seconds))
    return limits


ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?")


def _origins(text: str | None, environment: str, problems: list[str]) -> tuple[str, ...]:
    """`LOYALTY_CORS_ORIGINS`: the web origins a browser may call the API from, comma-separated
    (`https://console.example.com,http://localhost:5173`), exactly as a browser sends them in `Origin`
    (scheme, host, port if not the default; no path). Empty by default: no page on another origin may
    call. `*` (any origin) is for development only; production refuses to start with it."""
    origins = []
    for part in filter(None, (piece.strip() for piece in (text or "").split(","))):
        if part == "*":
            if environment == "production":
                problems.append("LOYALTY_CORS_ORIGINS must list origins in production, not `*` (any web page "
                                "could then call the API with a member's token)")
        elif not ORIGIN.fullmatch(part):
            problems.append(f"LOYALTY_CORS_ORIGINS: {part!r} is not an origin (https://host[:port], no path)")
            continue
        origins.append(part.lower())
    return tuple(origins)


def _networks(text: str | None, problems: list[str]) -> tuple:
    try:
        return tuple(ipaddress.ip_network(part.strip()) for part in (text or "").split(",") if part.strip())
    except ValueError as exc:
        problems.append(f"LOYALTY_TRUSTED_PROXIES: {exc}")
        return ()


@dataclass(frozen=True)
class Settings:
    database_url: str
    environment: str
    secret_key: str
    program_path: Path
    access_token_ttl_seconds: int
    wechat_appid: str | None
    wechat_secret: str | None
    wechat_app_appid: str | None = None   # the mobile app's (Open Platform) appid and secret, for its sign-in
    wechat_app_secret: str | None = None
    sms: SmsSettings | None = None
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    data_key: bytes = base64.b64decode(DEV_DATA_KEY)
    old_data_keys: tuple[bytes, ...] = ()
    rate_limits: dict[str, tuple[int, int]] = field(default_factory=dict)
    redis_url: str | None = None
    metrics_token: str | None = None
    trusted_proxies: tuple = ()
    limits: RequestLimits = RequestLimits()
    database: DatabaseSettings = API_DATABASE
    trusted_documents_only: bool = False  # only the registered operations (`api.core.documents`)
    operations_dir: Path = ROOT / "operations"
    cors_origins: tuple[str, ...] = ()  # web origins allowed to call from a browser (`_origins`)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        """The settings of `env` (the process environment by default); SettingsError listing every
        setting that is missing or unsafe, one line each."""
        env = dict(os.environ if env is None else env)
        problems: list[str] = []
        environment = env.get("LOYALTY_ENV", "development")
        if environment not in ENVIRONMENTS:
            problems.append(f"LOYALTY_ENV must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}")
        if environment == "production":
            _production_keys(env.get("LOYALTY_SECRET_KEY"), env.get("LOYALTY_DATA_KEY"), problems)
            if not env.get("DATABASE_URL"):
                problems.append("DATABASE_URL is required in production (postgresql+asyncpg://user@host/db): "
                                "the development SQLite file is not a production database")
            if not (env.get("LOYALTY_WECHAT_APPID") and env.get("LOYALTY_WECHAT_SECRET")):
                problems.append("LOYALTY_WECHAT_APPID and LOYALTY_WECHAT_SECRET are required in production "
                                "(the mini-program's credentials, for jscode2session)")
        if bool(env.get("LOYALTY_WECHAT_APP_APPID")) != bool(env.get("LOYALTY_WECHAT_APP_SECRET")):
            problems.append("LOYALTY_WECHAT_APP_APPID and LOYALTY_WECHAT_APP_SECRET go together (the mobile app's "
                            "credentials, for sns/oauth2/access_token); set both to enable its sign-in, or neither")
        data_key = _data_key("LOYALTY_DATA_KEY", env.get("LOYALTY_DATA_KEY") or DEV_DATA_KEY, problems)
        old_keys = tuple(_data_key("LOYALTY_DATA_OLD_KEYS", part, problems)
                         for part in (env.get("LOYALTY_DATA_OLD_KEYS") or "").split(",") if part.strip())
        program = Path(env.get("LOYALTY_PROGRAM") or DEFAULT_PROGRAM)
        if not program.is_absolute() and not program.exists():
            program = ROOT / program

        def integer(name: str, default: int, minimum: int) -> int:
            return _integer(env, name, default, minimum, problems)

        defaults, database = RequestLimits(), API_DATABASE
        settings = cls(
            database_url=env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{ROOT / DEFAULT_URL.split(':///')[1]}",
            environment=environment,
            secret_key=env.get("LOYALTY_SECRET_KEY") or DEV_SECRET_KEY,
            program_path=program,
            access_token_ttl_seconds=integer("LOYALTY_ACCESS_TOKEN_TTL", 15 * 60, 60),
            refresh_token_ttl_seconds=integer("LOYALTY_REFRESH_TOKEN_TTL", 30 * 24 * 3600, 3600),
            wechat_appid=env.get("LOYALTY_WECHAT_APPID") or None,
            wechat_secret=env.get("LOYALTY_WECHAT_SECRET") or None,
            wechat_app_appid=env.get("LOYALTY_WECHAT_APP_APPID") or None,
            wechat_app_secret=env.get("LOYALTY_WECHAT_APP_SECRET") or None,
            sms=_sms(env, problems),
            data_key=data_key,
            old_data_keys=old_keys,
            rate_limits=_rate_limits(env.get("LOYALTY_RATE_LIMITS"), environment, problems),
            redis_url=env.get("REDIS_URL") or None,
            metrics_token=env.get("LOYALTY_METRICS_TOKEN") or None,
            trusted_proxies=_networks(env.get("LOYALTY_TRUSTED_PROXIES"), problems),
            limits=RequestLimits(
                max_depth=integer("LOYALTY_MAX_QUERY_DEPTH", defaults.max_depth, 2),
                max_aliases=integer("LOYALTY_MAX_ALIASES", defaults.max_aliases, 1),
                max_tokens=integer("LOYALTY_MAX_TOKENS", defaults.max_tokens, 100),
                max_fields=integer("LOYALTY_MAX_FIELDS", defaults.max_fields, 10),
                max_query_cost=integer("LOYALTY_MAX_QUERY_COST", defaults.max_query_cost, 10),
                max_batch=integer("LOYALTY_MAX_BATCH", defaults.max_batch, 1),
                max_body_bytes=integer("LOYALTY_MAX_BODY_BYTES", defaults.max_body_bytes, 1024),
                timeout_seconds=integer("LOYALTY_REQUEST_TIMEOUT", int(defaults.timeout_seconds), 1),
            ),
            database=DatabaseSettings(
                pool_size=integer("LOYALTY_DB_POOL_SIZE", database.pool_size, 1),
                max_overflow=integer("LOYALTY_DB_MAX_OVERFLOW", database.max_overflow, 0),
                pool_timeout_seconds=integer("LOYALTY_DB_POOL_TIMEOUT", int(database.pool_timeout_seconds), 1),
                statement_timeout_ms=integer("LOYALTY_DB_STATEMENT_TIMEOUT_MS", database.statement_timeout_ms, 100),
                lock_timeout_ms=integer("LOYALTY_DB_LOCK_TIMEOUT_MS", database.lock_timeout_ms, 100),
                idle_in_transaction_timeout_ms=integer("LOYALTY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS",
                                                       database.idle_in_transaction_timeout_ms, 100),
                pre_ping=False,
            ),
            trusted_documents_only=_boolean(env, "LOYALTY_TRUSTED_DOCUMENTS_ONLY", problems),
            cors_origins=_origins(env.get("LOYALTY_CORS_ORIGINS"), environment, problems),
        )
        if problems:
            raise SettingsError("\n".join(problems))
        return settings
