"""The back ends the container's providers build from the settings: engines, the Redis
client, the cache, the limiter, the store, the lock; the only code, with the container,
that names adapters and reads configuration."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

from sqlalchemy.engine import Engine

from logistic.adapters.clock import SystemClock
from logistic.adapters.file_lock import FileLock
from logistic.adapters.local_store import LocalDirectoryStore
from logistic.adapters.memory import (
    MemoryCache,
    MemoryRateLimiter,
)
from logistic.adapters.redis_breaker import RedisBreaker
from logistic.adapters.redis_cache import RedisCache
from logistic.adapters.redis_client import RedisLike, redis_client
from logistic.adapters.redis_counted_cache import RedisCountedCache
from logistic.adapters.redis_fence import RedisFence
from logistic.adapters.redis_lock import RedisLock
from logistic.adapters.redis_rate_limiter import RedisRateLimiter
from logistic.adapters.secret_file import stored_secret
from logistic.adapters.sql.engine import create_engine, create_read_engine, ping
from logistic.adapters.sql.error_counts import count_errors
from logistic.ports.cache import Cache, CountedCache
from logistic.ports.cache_fence import CacheGenerations
from logistic.ports.clock import Clock
from logistic.ports.lock import Lock
from logistic.ports.object_store import ObjectStore
from logistic.ports.rate_limiter import RateLimiter
from logistic.ports.webhook_sender import WebhookSender
from logistic.services.dispatch import DispatchSettings
from logistic.services.freshness import Freshness
from logistic.services.health import Readiness
from logistic.services.metering import Meter
from logistic.services.rate_limit import Quota, Throttle
from logistic.settings import Settings


def _whole_seconds(timeout: timedelta | None) -> int | None:
    return None if timeout is None else max(1, int(timeout.total_seconds()))


def engine(
    url: str, pool_recycle: timedelta, timeout: timedelta | None, meter: Meter
) -> Iterator[Engine]:
    engine = create_engine(
        url,
        pool_recycle_s=int(pool_recycle.total_seconds()),
        timeout_s=_whole_seconds(timeout),
    )
    yield count_errors(engine, meter)
    engine.dispose()


def read_engine(
    url: str, pool_recycle: timedelta, timeout: timedelta | None, fallback: Engine, meter: Meter
) -> Iterator[Engine]:
    engine = create_read_engine(
        url,
        pool_recycle_s=int(pool_recycle.total_seconds()),
        timeout_s=_whole_seconds(timeout),
    )
    if engine is None:
        yield fallback  # disposed by its own resource
        return
    yield count_errors(engine, meter)
    engine.dispose()


def replica_engine(
    url: str | None,
    pool_recycle: timedelta,
    timeout: timedelta | None,
    primary_reads: Engine,
    meter: Meter,
) -> Iterator[Engine]:
    if url is None:
        yield primary_reads  # disposed by its own resource
        return
    yield from read_engine(url, pool_recycle, timeout, primary_reads, meter)


def redis(url: str | None) -> Iterator[RedisLike | None]:
    if url is None:
        yield None
        return
    client = redis_client(url)
    yield client
    client.close()


def cache(
    settings: Settings, client: RedisLike | None, clock: SystemClock, breaker: RedisBreaker
) -> Cache:
    if client is None:
        return MemoryCache(clock)
    return RedisCache(client, prefix=settings.redis_prefix, breaker=breaker, fenced=True)


def rate_limiter(
    settings: Settings, client: RedisLike | None, breaker: RedisBreaker
) -> RateLimiter:
    # The embedded default is one process (see Settings.workers): counting there is exact.
    if client is None:
        return MemoryRateLimiter()
    return RedisRateLimiter(client, prefix=settings.redis_prefix, breaker=breaker)


def counted_cache(
    settings: Settings,
    client: RedisLike | None,
    limiter: RateLimiter,
    cache: Cache,
    breaker: RedisBreaker,
) -> CountedCache | None:
    # One round trip for both only while both are the Redis adapters (a test may swap either).
    if client is None or not isinstance(limiter, RedisRateLimiter):
        return None
    if not isinstance(cache, RedisCache):
        return None
    return RedisCountedCache(client, prefix=settings.redis_prefix, breaker=breaker, fenced=True)


def freshness(
    settings: Settings,
    client: RedisLike | None,
    cache: Cache,
    generations: CacheGenerations,
    clock: Clock,
    breaker: RedisBreaker,
) -> Freshness | None:
    # Only a shared cache needs its fence; one in this process sees every delete.
    if client is None or not isinstance(cache, RedisCache):
        return None
    fence = RedisFence(client, prefix=settings.redis_prefix, breaker=breaker)
    return Freshness(generations, fence, clock)


def freshness_kept(freshness: Freshness | None) -> Iterator[None]:
    """A thread keeping the cache's fence, for as long as the process serves."""
    if freshness is None:
        yield None
        return
    stop = threading.Event()
    keeper = threading.Thread(target=freshness.run, args=(stop,), name="freshness", daemon=True)
    keeper.start()
    yield None
    stop.set()
    keeper.join(timeout=5)


def throttle(settings: Settings, limiter: RateLimiter, clock: Clock) -> Throttle:
    limit = settings.rate_limit
    quota = None if limit is None else Quota(limit.requests, limit.period)
    return Throttle(limiter, clock, quota)


def object_store(settings: Settings) -> ObjectStore:
    if settings.s3_bucket:
        # Imported only here: boto3 costs every worker memory it rarely needs.
        from logistic.adapters.s3_store import S3ObjectStore, s3_client

        client = s3_client(settings.s3_endpoint_url, settings.s3_region)
        return S3ObjectStore(client, settings.s3_bucket, prefix=settings.s3_prefix)
    root = settings.home / "reports"
    root.mkdir(parents=True, exist_ok=True)
    return LocalDirectoryStore(root)


def report_lock(
    settings: Settings, client: RedisLike | None, clock: Clock, breaker: RedisBreaker
) -> Lock:
    if client is None:
        return FileLock(settings.home / "locks", clock)
    return RedisLock(client, prefix=f"{settings.redis_prefix}lock:", breaker=breaker)


def session_secret(settings: Settings) -> str:
    return settings.secret_key or stored_secret(settings.home / "secret-key")


def readiness(
    engine: Engine,
    primary_read_engine: Engine,
    read_engine: Engine,
    cache: Cache,
    object_store: ObjectStore,
) -> Readiness:
    checks: dict[str, Callable[[], object]] = {
        "database": lambda: ping(engine),
        "cache": lambda: cache.get("readyz"),
        "object_store": object_store.check,
    }
    if read_engine is not primary_read_engine:
        checks["read_database"] = lambda: ping(read_engine)
    return Readiness(checks)


def webhook_sender(settings: Settings, clock: Clock) -> Iterator[WebhookSender]:
    # Imported only here: the sender is the dispatcher's, not every server worker's.
    from logistic.adapters.http_webhook_sender import HttpWebhookSender

    sender = HttpWebhookSender(
        clock.now,
        timeout_s=settings.webhooks.timeout.total_seconds(),
        connections=settings.webhooks.workers,
    )
    yield sender
    sender.close()


def dispatch_settings(settings: Settings) -> DispatchSettings:
    webhooks = settings.webhooks
    return DispatchSettings(
        workers=webhooks.workers,
        per_endpoint=webhooks.per_endpoint,
        lease=webhooks.lease,
        timeout=webhooks.timeout,
        schedule=webhooks.schedule,
        allow_private=webhooks.allow_private,
    )
