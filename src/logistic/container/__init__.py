"""The composition root: the only place that reads configuration and builds clients.

Nothing here connects at import time; engines and clients are `Resource`s, built
on first use (a server's worker builds its `WorkerResource`s before its first request,
in `Server.load`: a Resource takes no lock) and closed by `shutdown_resources()`. The
rest are ThreadSafeSingletons: a worker's threads may ask for one at the same moment
at its first requests, and each gets the one instance.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from typing import TypeVar

from attrs import evolve
from dependency_injector import containers, providers

from logistic.adapters.clock import FixedClock, SystemClock, TravellingClock
from logistic.adapters.faker_people import FakerContacts
from logistic.adapters.key_file import KeyFile
from logistic.adapters.memory import (
    MemoryApiKeys,
    MemoryCache,
    MemoryCacheGenerations,
    MemoryContacts,
    MemoryIdempotencyKeys,
    MemoryLocationCatalog,
    MemoryRateLimiter,
    MemoryShipmentRepository,
)
from logistic.adapters.memory_lanes import MemoryLaneHistory
from logistic.adapters.memory_metrics import MemoryMetricsStore
from logistic.adapters.memory_reports import MemoryReportFigures
from logistic.adapters.memory_store import MemoryLock, MemoryObjectStore
from logistic.adapters.memory_webhooks import (
    MemoryResolver,
    MemoryWebhookOutbox,
    MemoryWebhookSubscriptions,
)
from logistic.adapters.prometheus_files import PrometheusFiles
from logistic.adapters.redis_breaker import RedisBreaker
from logistic.adapters.socket_resolver import SocketResolver
from logistic.adapters.sql.cache_generations import SqlCacheGenerations
from logistic.adapters.sql.idempotency import SqlIdempotencyKeys
from logistic.adapters.sql.lanes import SqlLaneHistory
from logistic.adapters.sql.locations import SqlLocationCatalog
from logistic.adapters.sql.migrate import upgrade as upgrade_schema
from logistic.adapters.sql.report_figures import SqlReportFigures
from logistic.adapters.sql.repository import SqlShipmentRepository
from logistic.adapters.sql.status_counts import recount as recount_orders
from logistic.adapters.sql.webhook_outbox import SqlWebhookOutbox
from logistic.adapters.sql.webhook_subscriptions import SqlWebhookSubscriptions
from logistic.container import backends
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.language import Language
from logistic.services.access import Access
from logistic.services.backtesting import Backtesting
from logistic.services.batch_lookup import BatchLookup
from logistic.services.dashboard import Dashboard
from logistic.services.disclosure import Disclosure
from logistic.services.dispatch import Dispatcher
from logistic.services.events import Recording
from logistic.services.fake_orders import FakeOrders
from logistic.services.health import Readiness
from logistic.services.idempotency import Idempotency
from logistic.services.ingest import Ingest
from logistic.services.lane_estimates import LaneEstimates
from logistic.services.locations import Locations
from logistic.services.metering import FAMILIES, Meter
from logistic.services.metrics_publisher import MetricsPublisher
from logistic.services.quick_query import QuickQuery
from logistic.services.reports import Reports
from logistic.services.seeding import Seeding
from logistic.services.tracking import Tracking
from logistic.services.webhook_subscribers import Subscribers
from logistic.services.webhooks import Webhooks
from logistic.settings import Settings

T = TypeVar("T")


class WorkerResource(providers.Resource[T]):
    """A Resource each server worker builds before its first request; the others (the
    dispatcher's HTTP client) only where they are used, so a worker never loads them."""


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.ThreadSafeSingleton(SystemClock)
    # `logistic scheduler --clock-start/--clock-speed` puts one in place of `clock`.
    travelling_clock = providers.Factory(TravellingClock)
    # Leases in files are shared by every process of the machine, so they expire by
    # its time, even while `clock` travels.
    wall_clock = providers.ThreadSafeSingleton(SystemClock)
    # This process's counts (LOGISTIC_METRICS=off: none), written out by the publisher
    # to the store every process of the host shares (see services/metering.py).
    meter = providers.ThreadSafeSingleton(Meter, settings.provided.metrics)
    metrics_store = providers.ThreadSafeSingleton(
        PrometheusFiles, settings.provided.metrics_dir, FAMILIES
    )
    # A process scraped on a port of its own (`logistic scheduler --metrics-port`).
    process_metrics_store = providers.ThreadSafeSingleton(MemoryMetricsStore, FAMILIES)
    metrics_publisher = providers.ThreadSafeSingleton(MetricsPublisher, meter, metrics_store)
    engine = WorkerResource(
        backends.engine,
        settings.provided.database_url,
        settings.provided.database_pool_recycle,
        settings.provided.database_timeout,
        meter,
    )
    # The same database in a pool of its own, for single reads outside a transaction.
    primary_read_engine = WorkerResource(
        backends.read_engine,
        settings.provided.database_url,
        settings.provided.database_pool_recycle,
        settings.provided.database_timeout,
        engine,
        meter,
    )
    # LOGISTIC_DATABASE_READ_URL (a replica) for reads that may lag; else the primary.
    read_engine = WorkerResource(
        backends.replica_engine,
        settings.provided.database_read_url,
        settings.provided.database_pool_recycle,
        settings.provided.database_timeout,
        primary_read_engine,
        meter,
    )
    # The commands that bring the schema up to date and mend the stored counts.
    upgrade = providers.Callable(upgrade_schema, engine)
    recount = providers.Callable(recount_orders, engine)
    redis = WorkerResource(backends.redis, settings.provided.redis_url)
    # One per process: after a few failures nothing asks Redis for a short while.
    redis_breaker = providers.ThreadSafeSingleton(RedisBreaker)
    cache = providers.ThreadSafeSingleton(backends.cache, settings, redis, clock, redis_breaker)

    shipments = providers.ThreadSafeSingleton(
        SqlShipmentRepository, engine, primary_read_engine, meter=meter
    )
    # /query misses read the replica; writes and the checks after them use the primary.
    query_shipments = providers.ThreadSafeSingleton(
        SqlShipmentRepository, engine, primary_read_engine, read_engine, meter=meter
    )
    location_catalog = providers.ThreadSafeSingleton(SqlLocationCatalog, engine)
    locations = providers.ThreadSafeSingleton(Locations, location_catalog)
    # Its pools come from a child process, at its first contact (FakerContacts).
    contacts = providers.ThreadSafeSingleton(FakerContacts)

    # The lanes' transit times: learned at every report slot, shown in every estimate.
    lanes = providers.ThreadSafeSingleton(SqlLaneHistory, engine)
    lane_estimates = providers.ThreadSafeSingleton(
        LaneEstimates, lanes, clock, settings.provided.timezone
    )
    backtesting = providers.Factory(
        Backtesting, lanes, locations, clock, settings.provided.timezone
    )

    cache_generations = providers.ThreadSafeSingleton(SqlCacheGenerations, engine)
    freshness = providers.ThreadSafeSingleton(
        backends.freshness, settings, redis, cache, cache_generations, wall_clock, redis_breaker
    )
    # Started by init_resources (each server worker), not by the commands.
    freshness_kept = WorkerResource(backends.freshness_kept, freshness)
    tracking = providers.ThreadSafeSingleton(
        Tracking,
        shipments=query_shipments,
        locations=locations,
        cache=cache,
        zone=settings.provided.timezone,
        ttl=settings.provided.cache_ttl,
        negative_ttl=settings.provided.negative_cache_ttl,
        page_languages=tuple(Language),
        freshness=freshness,
        meter=meter,
        estimates=lane_estimates,
    )
    batch_lookup = providers.ThreadSafeSingleton(
        BatchLookup,
        tracking=tracking,
        shipments=query_shipments,
        cache=cache,
        negative_ttl=settings.provided.negative_cache_ttl,
    )
    webhook_subscriptions = providers.ThreadSafeSingleton(SqlWebhookSubscriptions, engine)
    webhook_outbox = providers.ThreadSafeSingleton(SqlWebhookOutbox, engine)
    host_resolver = providers.ThreadSafeSingleton(SocketResolver)
    subscribers = providers.ThreadSafeSingleton(
        Subscribers,
        subscriptions=webhook_subscriptions,
        tracking=tracking,
        clock=clock,
        ttl=settings.provided.webhooks.provided.cache_ttl,
    )
    webhooks = providers.ThreadSafeSingleton(
        Webhooks,
        subscriptions=webhook_subscriptions,
        outbox=webhook_outbox,
        subscribers=subscribers,
        resolver=host_resolver,
        clock=clock,
        allow_http=settings.provided.webhooks.provided.allow_http,
        allow_private=settings.provided.webhooks.provided.allow_private,
    )
    webhook_sender = providers.Resource(backends.webhook_sender, settings, clock)
    dispatcher = providers.Factory(
        Dispatcher,
        outbox=webhook_outbox,
        sender=webhook_sender,
        clock=clock,
        settings=providers.Callable(backends.dispatch_settings, settings),
        resolver=host_resolver,
        meter=meter,
    )
    fake_orders = providers.ThreadSafeSingleton(
        FakeOrders,
        shipments=shipments,
        locations=locations,
        contacts=contacts,
        clock=clock,
        zone=settings.provided.timezone,
        tracking=tracking,
        subscribers=subscribers,
        meter=meter,
    )
    recording = providers.ThreadSafeSingleton(
        Recording,
        shipments=shipments,
        locations=locations,
        tracking=tracking,
        clock=clock,
        subscribers=subscribers,
        meter=meter,
    )
    # Scans in bulk (POST /events, `logistic ingest`): many shipments in one write.
    ingest = providers.ThreadSafeSingleton(
        Ingest,
        shipments=shipments,
        locations=locations,
        tracking=tracking,
        clock=clock,
        meter=meter,
        subscribers=subscribers,
    )
    idempotency_keys = providers.ThreadSafeSingleton(SqlIdempotencyKeys, engine)
    idempotency = providers.ThreadSafeSingleton(
        Idempotency, idempotency_keys, clock, claimed_writes=providers.List(shipments)
    )
    api_keys = providers.ThreadSafeSingleton(KeyFile, settings.provided.api_keys_file)
    access = providers.ThreadSafeSingleton(Access, api_keys)
    rate_limiter = providers.ThreadSafeSingleton(
        backends.rate_limiter, settings, redis, redis_breaker
    )
    throttle = providers.ThreadSafeSingleton(backends.throttle, settings, rate_limiter, clock)
    counted_cache = providers.ThreadSafeSingleton(
        backends.counted_cache, settings, redis, rate_limiter, cache, redis_breaker
    )
    # A Factory: cheap, and it follows a reset of the singletons it is made of.
    quick_query = providers.Factory(QuickQuery, throttle, tracking, counted_cache, meter)
    # The tracking page's full recipient, for the last four digits of their phone.
    disclosure = providers.ThreadSafeSingleton(Disclosure, query_shipments, rate_limiter, clock)
    seeding = providers.ThreadSafeSingleton(
        Seeding,
        shipments=shipments,
        locations=locations,
        contacts=contacts,
        clock=clock,
        zone=settings.provided.timezone,
        tracking=tracking,
    )
    object_store = providers.ThreadSafeSingleton(backends.object_store, settings)
    report_lock = providers.ThreadSafeSingleton(
        backends.report_lock, settings, redis, wall_clock, redis_breaker
    )
    report_figures = providers.ThreadSafeSingleton(SqlReportFigures, engine)
    reports = providers.ThreadSafeSingleton(
        Reports,
        figures=report_figures,
        store=object_store,
        lock=report_lock,
        clock=clock,
        zone=settings.provided.report_timezone.key,
        stuck_after=settings.provided.stuck_after,
        meter=meter,
    )
    dashboard = providers.ThreadSafeSingleton(Dashboard, reports)
    session_secret = providers.ThreadSafeSingleton(backends.session_secret, settings)
    readiness = providers.ThreadSafeSingleton(
        backends.readiness, engine, primary_read_engine, read_engine, cache, object_store
    )


def container_from_environment() -> Container:
    return Container(settings=Settings.from_environ(os.environ))


def without_database_timeout(container: Container) -> None:
    """No time limit on database calls: a migration or a bulk load may run for minutes.

    Called before the container's engines are built.
    """
    settings = evolve(container.settings(), database_timeout=None)
    container.settings.override(providers.Object(settings))


def memory_container(settings: Settings | None = None, now: datetime | None = None) -> Container:
    """A container whose every port is kept in memory: for tests and library users."""
    container = Container(
        settings=settings or Settings.from_environ({"LOGISTIC_HOME": "/nonexistent"})
    )
    clock = FixedClock(now) if now is not None else SystemClock()
    container.clock.override(providers.Object(clock))
    subscriptions = MemoryWebhookSubscriptions()
    outbox = MemoryWebhookOutbox(subscriptions)
    shipments = MemoryShipmentRepository(outbox)
    catalog = MemoryLocationCatalog(LOGISTICS_CENTERS)
    container.shipments.override(providers.Object(shipments))
    container.query_shipments.override(container.shipments)  # follows later overrides too
    container.location_catalog.override(providers.Object(catalog))
    container.object_store.override(providers.Object(MemoryObjectStore()))
    container.report_lock.override(providers.Object(MemoryLock(clock)))
    container.report_figures.override(providers.Object(MemoryReportFigures(shipments, catalog)))
    container.lanes.override(providers.Object(MemoryLaneHistory(shipments)))
    container.cache.override(providers.Object(MemoryCache(clock)))
    container.idempotency_keys.override(providers.Object(MemoryIdempotencyKeys()))
    container.api_keys.override(providers.Object(MemoryApiKeys()))
    container.rate_limiter.override(providers.Object(MemoryRateLimiter()))
    container.readiness.override(providers.Object(Readiness({})))
    container.cache_generations.override(providers.Object(MemoryCacheGenerations()))
    container.contacts.override(providers.Object(MemoryContacts()))
    container.webhook_subscriptions.override(providers.Object(subscriptions))
    container.webhook_outbox.override(providers.Object(outbox))
    container.host_resolver.override(providers.Object(MemoryResolver()))
    container.session_secret.override(providers.Object(secrets.token_hex(32)))
    container.metrics_store.override(providers.Object(MemoryMetricsStore(FAMILIES)))
    return container
