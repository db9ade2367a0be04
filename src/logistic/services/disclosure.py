"""Tiered disclosure: the recipient's whole name and address, for whoever knows the last
four digits of their phone, and a handful of tries an hour for whoever does not."""

from __future__ import annotations

import hmac
import re
from datetime import timedelta

from logistic.domain.errors import DomainError, InvalidInput, ShipmentNotFound
from logistic.domain.model import Shipment
from logistic.ports.clock import Clock
from logistic.ports.rate_limiter import RateLimiter
from logistic.ports.repositories import ShipmentRepository
from logistic.services.rate_limit import Quota, Throttle

# Ten thousand possible endings: five tries an hour per order and per client make
# guessing one a matter of months, and still let a recipient mistype twice.
TRIES = Quota(5, timedelta(hours=1))
DIGITS = 4
_NOT_A_DIGIT = re.compile(r"[^0-9]")
_FOUR_DIGITS = re.compile(r"[0-9]{4}")


class DigitsMismatch(DomainError):
    """The digits are not the end of the recipient's phone number."""


class Disclosure:
    """Shows a shipment's whole recipient to a caller who proves they know it.

    Every try counts, right or wrong, against two counters on the rate limiter:
    one for the order and one for the client, TRIES each. They are counted before
    the digits are compared, so a try past the limit learns nothing. Unlike the
    lookup quota this one does not let requests through while its counters are
    unreachable: then StorageUnavailable, and nothing is shown.
    """

    def __init__(
        self,
        shipments: ShipmentRepository,
        limiter: RateLimiter,
        clock: Clock,
        tries: Quota = TRIES,
    ) -> None:
        self._shipments = shipments
        self._limiter = limiter
        self._throttle = Throttle(limiter, clock, tries)

    def reveal(self, client: str, sno: int, digits: str) -> Shipment:
        """The shipment with its whole recipient, if `digits` (four ASCII digits) end the
        recipient's phone. RateLimited past the tries of this client or this order,
        DigitsMismatch, ShipmentNotFound; InvalidInput (not counted) for other text."""
        if _FOUR_DIGITS.fullmatch(digits) is None:
            raise InvalidInput("type the last four digits of the recipient's phone number")
        for scope, who in (("reveal-client", client), ("reveal-order", str(sno))):
            tally = self._throttle.tally(who, scope)
            if tally is not None:
                self._throttle.judge(tally, self._limiter.hit(tally.key, tally.window))
        shipment = self._shipments.get(sno)
        if shipment is None:
            raise ShipmentNotFound(sno)
        ending = _NOT_A_DIGIT.sub("", shipment.recipient.phone)[-DIGITS:]
        if len(ending) < DIGITS or not hmac.compare_digest(ending, digits):
            raise DigitsMismatch("these are not the last four digits of the recipient's phone")
        return shipment
