"""What keeps a shared cache from serving a body older than a recorded event.

A writer that cannot delete the cached entries of what it changed (the cache is down)
advances the database's cache generation. The shared cache answers its entries only
while its fence holds, a key with a short lease; each process extends the lease only
while the fence carries the database's current generation, and otherwise empties the
cache before setting the fence again. So an entry written before a failed delete can
be served at most one lease after the generation advanced, and the writer waits that
long before it answers (services/freshness.py).
"""

from __future__ import annotations

from typing import Protocol


class CacheGenerations(Protocol):
    """A counter kept by the database, shared by every process.

    Both methods raise StorageUnavailable when the database cannot be used.
    """

    def current(self) -> int:
        """The generation now: 0 until it is first advanced."""
        ...

    def advance(self) -> None:
        """Add one to the generation, durably (committed when this returns)."""
        ...


class CacheFence(Protocol):
    """The shared cache's fence: while it is absent, the cache answers every read as a miss.

    Every method raises CacheUnavailable when the cache cannot be reached.
    """

    def hold(self, generation: int, until_ms: int) -> bool:
        """Extend the fence to `until_ms` (Unix time, milliseconds) if it is set and
        carries `generation`, at once; False (nothing changed) otherwise."""
        ...

    def clear(self) -> bool:
        """Remove the fence, then delete every cached entry; False, doing nothing, while
        another process clears."""
        ...

    def start(self, generation: int, until_ms: int) -> None:
        """Set the fence to `generation` until `until_ms`, unless it is set already."""
        ...
