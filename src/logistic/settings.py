"""The service's configuration, parsed from environment variables (see the README's table)."""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import frozen

from logistic.domain.errors import DomainError, InvalidInput
from logistic.domain.retry_schedule import STANDARD, RetrySchedule


class ConfigurationError(DomainError):
    """A setting is malformed; the message names the variable."""


# The schemes a MariaDB/MySQL URL may start with: PyMySQL (pure Python; the default
# for a bare mysql://) or mysqlclient, the C driver of the same maintainers, which
# decodes results for much less CPU (docs/performance.md).
_MYSQL_SCHEMES = (
    "mysql",
    "mysql+pymysql",
    "mysql+mysqldb",
    "mariadb",
    "mariadb+pymysql",
    "mariadb+mysqldb",
)
_SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
_DRIVER_MODULES = {"pymysql": "pymysql", "mysqldb": "MySQLdb"}


def _database_url(url: str, variable: str, sqlite: bool = False) -> str:
    """`url` when it names a back end and driver the service supports and can load."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if sqlite and scheme in _SQLITE_SCHEMES:
        return url
    if scheme not in _MYSQL_SCHEMES:
        choices = "sqlite:///path, " if sqlite else ""
        raise ConfigurationError(
            f"{variable} must be {choices}mysql+pymysql://user:pass@host/db "
            f"or mysql+mysqldb://user:pass@host/db (got {scheme or 'no scheme'}://)"
        )
    driver = scheme.partition("+")[2] or "pymysql"
    if importlib.util.find_spec(_DRIVER_MODULES[driver]) is None:
        raise ConfigurationError(
            f"{variable} names the {driver} driver, which is not installed"
            + (": pip install 'logistic[mysqlclient]'" if driver == "mysqldb" else "")
        )
    return url


# The defaults the adapters also fall back on when built without settings (tests,
# library users): written here once.
# Below the idle timeout of any proxy or load balancer in front of the database.
DEFAULT_POOL_RECYCLE_S = 3600
# Each database wait of a serving process (connect, a read, a write, a pooled
# connection): short enough that a hung server is a 503 well within nginx's 15 s.
DEFAULT_DATABASE_TIMEOUT_S = 4
DEFAULT_REDIS_PREFIX = "logistic:"

_RATE = re.compile(r"^(\d+)/(second|minute|hour)$")
_PER = {"second": 1, "minute": 60, "hour": 3600}


def _zone(name: str, variable: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"{variable}={name!r} is not a known time zone") from None


def _positive_int(environ: Mapping[str, str], variable: str, default: int) -> int:
    raw = environ.get(variable)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError(f"{variable}={raw!r} must be a whole number of at least 1")
    return int(raw)


def _seconds(environ: Mapping[str, str], variable: str, default: int) -> timedelta:
    """A whole number of seconds; 0 is allowed (it switches the feature off)."""
    raw = environ.get(variable)
    if raw is None or raw == "":
        return timedelta(seconds=default)
    if not raw.isascii() or not raw.isdigit():
        raise ConfigurationError(
            f"{variable}={raw!r} must be a whole number of seconds (0 for off)"
        )
    return timedelta(seconds=int(raw))


def _pii_full(environ: Mapping[str, str]) -> bool:
    raw = (environ.get("LOGISTIC_PII") or "masked").strip().lower()
    if raw not in ("masked", "full"):
        raise ConfigurationError(f"LOGISTIC_PII={raw!r} must be masked or full")
    return raw == "full"


ProxyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(environ: Mapping[str, str], variable: str) -> tuple[ProxyNetwork, ...]:
    networks = []
    for item in (environ.get(variable) or "").split(","):
        if not item.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ConfigurationError(
                f"{variable}: {item.strip()!r} is not an IP address or network (10.0.0.0/8)"
            ) from None
    return tuple(networks)


def _switch(environ: Mapping[str, str], variable: str, default: bool) -> bool:
    raw = environ.get(variable, "").strip().lower()
    if raw == "":
        return default
    if raw in ("on", "true", "1", "yes"):
        return True
    if raw in ("off", "false", "0", "no"):
        return False
    raise ConfigurationError(f"{variable}={raw!r} must be on or off")


# A secret shorter than this could be guessed from the cookies it signs.
MIN_SECRET_KEY = 32


def _secret_key(environ: Mapping[str, str]) -> str | None:
    raw = environ.get("LOGISTIC_SECRET_KEY", "")
    if raw == "":
        return None
    if len(raw) < MIN_SECRET_KEY:
        raise ConfigurationError(
            f"LOGISTIC_SECRET_KEY must be at least {MIN_SECRET_KEY} characters long "
            "(python -c 'import secrets; print(secrets.token_hex(32))' makes one)"
        )
    return raw


_LOOPBACK = "127.0.0.0/8,::1/128"


def _log_format(environ: Mapping[str, str]) -> str:
    raw = (environ.get("LOGISTIC_LOG_FORMAT") or "json").strip().lower()
    if raw not in ("json", "text"):
        raise ConfigurationError(f"LOGISTIC_LOG_FORMAT={raw!r} must be json or text")
    return raw


def _share(environ: Mapping[str, str], variable: str) -> float:
    """A fraction from 0 to 1 (0.01: one in a hundred)."""
    raw = (environ.get(variable) or "0").strip()
    try:
        share = float(raw)
    except ValueError:
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise ConfigurationError(f"{variable}={raw!r} must be a number from 0 to 1, like 0.01")
    return share


@frozen
class RateLimit:
    requests: int
    period: timedelta

    @classmethod
    def parse(cls, raw: str, variable: str = "LOGISTIC_RATE_LIMIT") -> RateLimit | None:
        text = raw.strip().lower()
        if text == "off":
            return None
        match = _RATE.match(text)
        if match is None or int(match.group(1)) < 1:
            raise ConfigurationError(
                f"{variable}={raw!r} must look like 120/minute (per second, minute or hour) or off"
            )
        return cls(int(match.group(1)), timedelta(seconds=_PER[match.group(2)]))


@frozen
class WebhookSettings:
    """How webhooks are checked and delivered (docs/webhooks.md)."""

    allow_http: bool
    allow_private: bool
    schedule: RetrySchedule
    timeout: timedelta
    workers: int
    per_endpoint: int
    lease: timedelta
    cache_ttl: timedelta

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> WebhookSettings:
        raw = environ.get("LOGISTIC_WEBHOOK_RETRY_SCHEDULE") or ",".join(map(str, STANDARD))
        try:
            schedule = RetrySchedule.parse(raw)
        except InvalidInput:
            raise ConfigurationError(
                f"LOGISTIC_WEBHOOK_RETRY_SCHEDULE={raw!r} must be delays in seconds"
                " separated by commas, e.g. 0,5,300"
            ) from None
        timeout = _positive_int(environ, "LOGISTIC_WEBHOOK_TIMEOUT", 10)
        lease = _positive_int(environ, "LOGISTIC_WEBHOOK_LEASE", 60)
        if lease <= timeout:
            # A claim must outlive its attempt, or another dispatcher sends it meanwhile.
            raise ConfigurationError(
                f"LOGISTIC_WEBHOOK_LEASE={lease} must be longer than"
                f" LOGISTIC_WEBHOOK_TIMEOUT={timeout}"
            )
        return cls(
            allow_http=_switch(environ, "LOGISTIC_WEBHOOK_ALLOW_HTTP", default=False),
            allow_private=_switch(environ, "LOGISTIC_WEBHOOK_ALLOW_PRIVATE", default=False),
            schedule=schedule,
            timeout=timedelta(seconds=timeout),
            workers=_positive_int(environ, "LOGISTIC_WEBHOOK_WORKERS", 32),
            per_endpoint=_positive_int(environ, "LOGISTIC_WEBHOOK_ENDPOINT_CONCURRENCY", 16),
            lease=timedelta(seconds=lease),
            cache_ttl=_seconds(environ, "LOGISTIC_WEBHOOK_CACHE_TTL", 5),
        )


@frozen
class Settings:
    """Every setting of the service; each default is written once, in `from_environ`."""

    home: Path
    database_url: str
    database_read_url: str | None
    database_pool_recycle: timedelta
    database_timeout: timedelta | None  # None: unbounded (migrations, bulk loads)
    redis_url: str | None
    redis_prefix: str
    cache_ttl: timedelta
    timezone: ZoneInfo
    host: str
    port: int
    workers: int
    threads: int
    fake_api: bool
    log_level: str
    api_keys_file: Path
    pii_full: bool
    rate_limit: RateLimit | None
    trusted_proxies: tuple[ProxyNetwork, ...]
    negative_cache_ttl: timedelta
    s3_bucket: str | None
    s3_endpoint_url: str | None
    s3_region: str | None
    s3_prefix: str
    report_timezone: ZoneInfo
    stuck_after: timedelta
    report_grace: timedelta
    page_refresh: timedelta  # how often an open tracking page asks for news; 0: never
    webhooks: WebhookSettings
    secret_key: str | None  # signs the dashboard's session cookie; None: a file in home
    metrics: bool
    multiprocess_dir: Path | None  # PROMETHEUS_MULTIPROC_DIR, if set
    metrics_from: tuple[ProxyNetwork, ...]
    log_format: str  # json or text
    access_log_sample: float

    @property
    def embedded(self) -> bool:
        """True when the database is the SQLite file (one process, in-process cache)."""
        return self.database_url.startswith("sqlite")

    @property
    def metrics_dir(self) -> Path:
        """Where the processes behind one port keep their counts: each API instance of a
        host has its own, so that each is scraped for its own workers only."""
        return self.multiprocess_dir or self.home / "metrics" / str(self.port)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        home = Path(environ.get("LOGISTIC_HOME") or "var").resolve()
        database_url = _database_url(
            environ.get("LOGISTIC_DATABASE_URL") or f"sqlite:///{home / 'logistic.db'}",
            "LOGISTIC_DATABASE_URL",
            sqlite=True,
        )
        database_read_url = environ.get("LOGISTIC_DATABASE_READ_URL") or None
        if database_read_url is not None:
            database_read_url = _database_url(database_read_url, "LOGISTIC_DATABASE_READ_URL")
        embedded = database_url.startswith("sqlite")
        cores = os.cpu_count() or 1
        timezone = _zone(environ.get("LOGISTIC_TIMEZONE") or "Asia/Taipei", "LOGISTIC_TIMEZONE")
        report_timezone = environ.get("LOGISTIC_REPORT_TIMEZONE")
        return cls(
            home=home,
            database_url=database_url,
            database_read_url=database_read_url,
            database_pool_recycle=timedelta(
                seconds=_positive_int(
                    environ, "LOGISTIC_DATABASE_POOL_RECYCLE", DEFAULT_POOL_RECYCLE_S
                )
            ),
            database_timeout=timedelta(
                seconds=_positive_int(
                    environ, "LOGISTIC_DATABASE_TIMEOUT", DEFAULT_DATABASE_TIMEOUT_S
                )
            ),
            redis_url=environ.get("LOGISTIC_REDIS_URL") or None,
            redis_prefix=environ.get("LOGISTIC_REDIS_PREFIX", DEFAULT_REDIS_PREFIX),
            cache_ttl=timedelta(seconds=_positive_int(environ, "LOGISTIC_CACHE_TTL", 4 * 3600)),
            timezone=timezone,
            host=environ.get("LOGISTIC_HOST") or "127.0.0.1",
            port=_positive_int(environ, "LOGISTIC_PORT", 3000),
            # The embedded default is one process with threads, so its in-process cache
            # and counters are shared by every request; server databases scale by processes.
            workers=1 if embedded else _positive_int(environ, "LOGISTIC_WORKERS", cores),
            # With a server database two threads per worker served more cached lookups
            # than four and as many misses (docs/performance.md).
            threads=_positive_int(environ, "LOGISTIC_THREADS", 8 if embedded else 2),
            fake_api=_switch(environ, "LOGISTIC_FAKE_API", default=embedded),
            log_level=(environ.get("LOGISTIC_LOG_LEVEL") or "INFO").upper(),
            api_keys_file=Path(environ.get("LOGISTIC_API_KEYS_FILE") or home / "api-keys"),
            pii_full=_pii_full(environ),
            rate_limit=RateLimit.parse(environ.get("LOGISTIC_RATE_LIMIT") or "120/minute"),
            trusted_proxies=_networks(environ, "LOGISTIC_TRUSTED_PROXIES"),
            negative_cache_ttl=_seconds(environ, "LOGISTIC_NEGATIVE_CACHE_TTL", 60),
            s3_bucket=environ.get("LOGISTIC_S3_BUCKET") or None,
            s3_endpoint_url=environ.get("LOGISTIC_S3_ENDPOINT_URL") or None,
            s3_region=environ.get("LOGISTIC_S3_REGION") or None,
            s3_prefix=environ.get("LOGISTIC_S3_PREFIX", ""),
            report_timezone=(
                _zone(report_timezone, "LOGISTIC_REPORT_TIMEZONE") if report_timezone else timezone
            ),
            stuck_after=timedelta(hours=_positive_int(environ, "LOGISTIC_STUCK_AFTER_HOURS", 72)),
            report_grace=timedelta(hours=_positive_int(environ, "LOGISTIC_REPORT_GRACE_HOURS", 8)),
            page_refresh=_seconds(environ, "LOGISTIC_PAGE_REFRESH", 30),
            webhooks=WebhookSettings.from_environ(environ),
            secret_key=_secret_key(environ),
            metrics=_switch(environ, "LOGISTIC_METRICS", default=True),
            # prometheus_client's own variable, for hosts that already set it.
            multiprocess_dir=Path(environ["PROMETHEUS_MULTIPROC_DIR"])
            if environ.get("PROMETHEUS_MULTIPROC_DIR")
            else None,
            metrics_from=_networks(
                {"LOGISTIC_METRICS_FROM": environ.get("LOGISTIC_METRICS_FROM") or _LOOPBACK},
                "LOGISTIC_METRICS_FROM",
            ),
            log_format=_log_format(environ),
            access_log_sample=_share(environ, "LOGISTIC_ACCESS_LOG_SAMPLE"),
        )
