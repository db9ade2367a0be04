"""RedisBreaker: open after a few unanswered calls, one probe after a while, closed by an answer."""

from __future__ import annotations

import logging

import pytest
import redis

from logistic.adapters.redis_breaker import RedisBreaker
from logistic.adapters.redis_client import cache_unavailable_on_error
from logistic.domain.errors import CacheBypassed, CacheUnavailable


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _fail(breaker: RedisBreaker) -> None:
    with pytest.raises(CacheUnavailable), cache_unavailable_on_error("get", breaker):
        raise redis.TimeoutError("Timeout reading from socket")


def _succeed(breaker: RedisBreaker) -> bool:
    ran = False
    with cache_unavailable_on_error("get", breaker):
        ran = True
    return ran


def test_it_opens_after_the_third_failure_in_a_row() -> None:
    breaker = RedisBreaker(failures_to_open=3, open_seconds=2, monotonic=Ticks())
    _fail(breaker)
    _fail(breaker)
    assert _succeed(breaker)  # an answer starts the count again
    _fail(breaker)
    _fail(breaker)
    assert not breaker.is_open
    _fail(breaker)
    assert breaker.is_open
    with pytest.raises(CacheBypassed):
        _succeed(breaker)


def test_one_probe_after_the_interval_and_an_answer_closes_it() -> None:
    ticks = Ticks()
    breaker = RedisBreaker(failures_to_open=1, open_seconds=2, monotonic=ticks)
    _fail(breaker)
    ticks.now += 1.9
    with pytest.raises(CacheBypassed):
        breaker.before()
    ticks.now += 0.2
    breaker.before()  # the probe
    with pytest.raises(CacheBypassed):
        breaker.before()  # no second probe while the first runs
    breaker.after(None)
    assert not breaker.is_open
    assert _succeed(breaker)


def test_a_failed_probe_keeps_it_open_for_another_interval() -> None:
    ticks = Ticks()
    breaker = RedisBreaker(failures_to_open=1, open_seconds=2, monotonic=ticks)
    _fail(breaker)
    ticks.now += 2.5
    _fail(breaker)
    assert breaker.is_open
    ticks.now += 1.0
    with pytest.raises(CacheBypassed):
        breaker.before()
    ticks.now += 1.5
    assert _succeed(breaker)
    assert not breaker.is_open


def test_a_reply_that_is_an_error_is_an_answer() -> None:
    breaker = RedisBreaker(failures_to_open=1, open_seconds=2, monotonic=Ticks())
    with pytest.raises(CacheUnavailable), cache_unavailable_on_error("get", breaker):
        raise redis.ResponseError("WRONGTYPE")
    assert not breaker.is_open


def test_opening_and_closing_are_each_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    ticks = Ticks()
    breaker = RedisBreaker(failures_to_open=2, open_seconds=1, monotonic=ticks)
    with caplog.at_level(logging.INFO, logger="logistic.adapters.redis_breaker"):
        for _ in range(50):
            _fail(breaker)  # failed, or bypassed (CacheBypassed is a CacheUnavailable)
            ticks.now += 0.1
        ticks.now += 2
        _succeed(breaker)
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2, messages
    assert "failed 2 times in a row" in messages[0]
    assert "answers again" in messages[1]
