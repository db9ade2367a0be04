"""Where the figures of a report come from."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from logistic.domain.report import ReportFigures

RECENT_DELIVERIES = timedelta(hours=8)


class ReportFigureSource(Protocol):
    """The figures of every order, computed where the orders are kept (never loaded one by one).

    The snapshot is taken "as of" an instant: orders created after it are left
    out, but each order counts with its status and location at the time of the
    call, because only the current ones are kept on the order (an order that
    moved on since `as_of` counts where it is now). Precisely:

    * `tracking_summary`, `total_orders` and `by_location` count the orders
      created at or before `as_of`, by current status and current location
      (every known logistics center is listed, with zero when it holds none);
    * `stuck` counts those not Delivered or Returned to Sender whose last event
      is more than `stuck_after` before `as_of`;
    * `delivered_last_8h` counts deliveries in the 8 hours ending at `as_of`
      (after `as_of - 8h`, up to `as_of` included);
    * the transit percentiles and `on_time_rate` cover the orders delivered at
      or before `as_of`.

    Raises StorageUnavailable when the back end fails.
    """

    def figures(self, as_of: datetime, stuck_after: timedelta) -> ReportFigures: ...
