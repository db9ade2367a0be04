"""Every error a database driver raises on an engine, counted by kind (MetricsStore)."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.exc import OperationalError

from logistic.adapters.sql.errors import deadlocked
from logistic.services.metering import DATABASE_ERRORS, Meter


def count_errors(engine: Engine, meter: Meter) -> Engine:
    """`engine`, its driver errors counted in `meter`: a deadlock, a disconnect (the
    server unreachable or gone) or other. SQLAlchemy calls this for connects too."""

    def counted(context: ExceptionContext) -> None:
        error = context.sqlalchemy_exception
        if isinstance(error, OperationalError) and deadlocked(error):
            kind = "deadlock"
        elif context.is_disconnect or context.connection is None:
            kind = "disconnect"
        else:
            kind = "other"
        meter.add(DATABASE_ERRORS, kind)

    event.listen(engine, "handle_error", counted)
    return engine
