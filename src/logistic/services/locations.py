"""The logistics centers, read once from the catalog and kept."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from logistic.domain.errors import LocationNotFound
from logistic.domain.model import Location
from logistic.ports.repositories import LocationCatalog


class Locations:
    """The logistics centers, read once from the catalog and kept: they are reference data."""

    def __init__(self, catalog: LocationCatalog) -> None:
        self._catalog = catalog
        self._by_id: Mapping[int, Location] | None = None
        self._lock = threading.Lock()

    def by_id(self) -> Mapping[int, Location]:
        if self._by_id is None:
            with self._lock:
                if self._by_id is None:
                    self._by_id = {location.id: location for location in self._catalog.all()}
        return self._by_id

    def all(self) -> tuple[Location, ...]:
        return tuple(self.by_id().values())

    def get(self, location_id: int) -> Location:
        try:
            return self.by_id()[location_id]
        except KeyError:
            raise LocationNotFound(location_id) from None
