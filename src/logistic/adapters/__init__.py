"""Implementations of the ports: databases, caches, stores, clocks, fakes."""
