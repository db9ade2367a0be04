"""The service on a Redis Cluster (LOGISTIC_REDIS_URL=redis+cluster://...), and without one.

The cache, lock and rate limiter contract suites also run on the cluster; these
tests cover what only a cluster has: keys in several hash slots, and a cluster
that does not answer when the service starts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient

from logistic.adapters.redis_cache import RedisCache
from logistic.adapters.redis_client import redis_client
from logistic.adapters.sql.migrate import upgrade
from logistic.container import Container
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.entrypoints.http import create_app
from logistic.services.tracking import tracking_key
from logistic.settings import Settings
from tests.services import free_port

LONG = timedelta(minutes=5)


def _service(home: Path, redis_url: str, prefix: str = "logistic:") -> Iterator[FlaskClient]:
    """The app on an embedded SQLite database and the given Redis URL."""
    settings = Settings.from_environ(
        {
            "LOGISTIC_HOME": str(home),
            "LOGISTIC_REDIS_URL": redis_url,
            "LOGISTIC_REDIS_PREFIX": prefix,
        }
    )
    container = Container(settings=settings)
    try:
        upgrade(container.engine())
        container.location_catalog().sync(LOGISTICS_CENTERS)
        yield create_app(container).test_client()
    finally:
        container.shutdown_resources()


def _new_order(client: FlaskClient) -> int:
    reply = client.get("/fake?num=1")
    assert reply.status_code == 200, reply.get_data(as_text=True)
    sno: int = reply.get_json()["data"][0]["sno"]
    return sno


@pytest.mark.redis
def test_keys_in_different_hash_slots_are_deleted_in_one_call(
    redis_cluster_url: str, redis_cluster_prefix: str
) -> None:
    client = redis_client(redis_cluster_url, timeout_seconds=1)
    cache = RedisCache(client, prefix=redis_cluster_prefix)
    keys = [f"query:masked:{sno}" for sno in range(1, 9)]
    for key in keys:
        cache.set(key, b"x", LONG)

    cache.delete(*keys)

    assert len({client.keyslot(redis_cluster_prefix + key) for key in keys}) > 1
    assert [cache.get(key) for key in keys] == [None] * len(keys)
    client.close()


@pytest.mark.redis
def test_query_bodies_are_cached_in_the_cluster(
    redis_cluster_url: str, redis_cluster_prefix: str, tmp_path: Path
) -> None:
    for client in _service(tmp_path, redis_cluster_url, redis_cluster_prefix):
        sno = _new_order(client)

        first = client.get(f"/query?sno={sno}")
        second = client.get(f"/query?sno={sno}")
        ready = client.get("/readyz")

        assert first.status_code == 200
        assert second.get_data() == first.get_data()
        assert ready.get_json()["checks"]["cache"] == "ok"
        cluster = redis.RedisCluster.from_url(redis_cluster_url.replace("+cluster", ""))
        cached = cluster.get(redis_cluster_prefix + tracking_key(sno))
        assert cached == first.headers["ETag"].encode() + first.get_data()
        cluster.close()


@pytest.mark.parametrize(
    "url", ["redis+cluster://127.0.0.1:{port}", "redis://127.0.0.1:{port}/0?cluster=true"]
)
def test_a_service_started_while_the_cluster_is_down_answers_from_the_database(
    url: str, tmp_path: Path
) -> None:
    for client in _service(tmp_path, url.format(port=free_port())):
        sno = _new_order(client)

        started = time.monotonic()
        replies = [client.get(f"/query?sno={sno}") for _ in range(5)]
        elapsed = time.monotonic() - started
        ready = client.get("/readyz")

        assert [reply.status_code for reply in replies] == [200] * 5
        assert elapsed < 2
        assert ready.status_code == 503
        checks = ready.get_json()["checks"]
        assert checks["database"] == "ok"
        assert checks["cache"].startswith("unavailable")
