"""How long the fake generator's parcels take: the parameters of its transit times.

The estimate learns from seeded data, so the data must have something true to
learn: time that grows with the distance of the lane, ferries and flights to the
outlying islands, line-hauls that slow down at weekends, next-morning delivery
rounds with hardly any on Sundays, and a few long delays. Every figure here is
listed in docs/estimate.md; the centres' operations run on Taiwan time whatever
LOGISTIC_TIMEZONE says.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, time, timedelta

from logistic.domain.model import Location, Region

# Taiwan keeps no daylight-saving time: its wall clock is UTC plus eight hours, and the
# generator reads it by adding them (cheaper than converting to a time zone).
CENTRES_OFFSET = timedelta(hours=8)
# Rough positions of the centres' cities (latitude, longitude), for road distances.
CITY_POSITIONS: dict[str, tuple[float, float]] = {
    "花蓮縣": (23.99, 121.60),
    "臺北市": (25.03, 121.56),
    "桃園市": (24.99, 121.30),
    "新北市": (25.01, 121.46),
    "新竹市": (24.80, 120.97),
    "苗栗縣": (24.56, 120.82),
    "臺中市": (24.15, 120.67),
    "彰化縣": (24.08, 120.54),
    "南投縣": (23.91, 120.68),
    "雲林縣": (23.71, 120.43),
    "嘉義市": (23.48, 120.45),
    "臺南市": (22.99, 120.21),
    "高雄市": (22.63, 120.30),
    "屏東縣": (22.67, 120.49),
    "宜蘭縣": (24.75, 121.75),
    "臺東縣": (22.76, 121.14),
    "澎湖縣": (23.57, 119.58),
    "金門縣": (24.43, 118.32),
}
UNKNOWN_CITY = (24.15, 120.67)  # a centre outside the list is placed in the middle
ROAD_FACTOR = 1.3  # road kilometres per kilometre as the crow flies
LINE_HAUL_KMH = 35.0  # trucks' average, waits at the dock included
HUB_HOURS = (2.0, 8.0)  # sorting at each centre on the way
PICK_UP_HOURS = (1.0, 10.0)
ISLAND_HOURS = (20.0, 56.0)  # waiting for and riding a ferry or a cargo flight
WEEKEND_SLOWDOWN = 1.5  # a leg that leaves on a Saturday or a Sunday takes this much longer
# Delivery rounds leave between these times of the morning (after local midnight).
ROUND_STARTS = (timedelta(hours=7, minutes=30), timedelta(hours=10))
ROUND_CUTOFF = time(6, 0)  # a parcel at its last centre by then goes out the same morning
ROUND_HOURS = (0.5, 9.0)  # from the round's start to the doorstep
SUNDAY_ROUNDS = 0.1  # the share of parcels due out on a Sunday that do go out
LONG_DELAY_RATE = 0.03  # lost in a corner of a hub for a few days
LONG_DELAY_DAYS = (2.0, 7.0)


def hours(rng: random.Random, span: tuple[float, float]) -> timedelta:
    low, high = span
    return timedelta(seconds=3600 * (low + (high - low) * rng.random()))


def road_km(origin: Location, destination: Location) -> float:
    """Road kilometres between two centres (from their cities' rough positions)."""
    cities = (origin.city, destination.city)
    known = _ROAD_KM.get(cities)
    if known is None:
        known = _ROAD_KM[cities] = _road_km(origin, destination)
    return known


# Kept per pair of cities: the generator asks for every order.
_ROAD_KM: dict[tuple[str, str], float] = {}


def _road_km(origin: Location, destination: Location) -> float:
    lat1, lon1 = CITY_POSITIONS.get(origin.city, UNKNOWN_CITY)
    lat2, lon2 = CITY_POSITIONS.get(destination.city, UNKNOWN_CITY)
    north = (lat2 - lat1) * 111.0
    east = (lon2 - lon1) * 111.0 * math.cos(math.radians((lat1 + lat2) / 2))
    return ROAD_FACTOR * math.hypot(north, east)


def line_haul(
    rng: random.Random, origin: Location, destination: Location, legs: int
) -> list[timedelta]:
    """Each leg's driving from `origin` to `destination` through `legs` legs, islands included.

    The hubs on the way are taken to lie along the road, so the distance is the lane's
    and the legs share it."""
    drive = road_km(origin, destination) / LINE_HAUL_KMH
    share = [timedelta(hours=drive / legs * rng.uniform(0.8, 1.3)) for _ in range(legs)]
    if Region.OUTLYING_ISLANDS in (origin.region, destination.region):
        share[-1] += hours(rng, ISLAND_HOURS)
    return share


def slowed(leaving: datetime, leg: timedelta) -> timedelta:
    """A leg that leaves (a UTC instant) at a weekend takes longer: fewer line-hauls run."""
    weekday = (leaving + CENTRES_OFFSET).weekday()
    return leg * WEEKEND_SLOWDOWN if weekday >= 5 else leg


def next_round(rng: random.Random, ready: datetime) -> datetime:
    """When (in UTC) the delivery round a parcel ready at `ready` (a UTC instant, at its
    last centre) goes out. Rounds leave in the morning; hardly any leave on a Sunday."""
    local = ready + CENTRES_OFFSET  # Taiwan's wall clock, still labelled UTC
    day = local.date() if local.time() < ROUND_CUTOFF else local.date() + timedelta(days=1)
    if day.weekday() == 6 and rng.random() >= SUNDAY_ROUNDS:
        day += timedelta(days=1)
    midnight = datetime.combine(day, time(), UTC) - CENTRES_OFFSET
    first, last = ROUND_STARTS
    return midnight + first + (last - first) * rng.random()


def long_delay(rng: random.Random) -> timedelta:
    """A rare delay of days (zero for most parcels)."""
    if rng.random() >= LONG_DELAY_RATE:
        return timedelta()
    return timedelta(days=rng.uniform(*LONG_DELAY_DAYS))
