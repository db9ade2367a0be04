"""`logistic seed`: make sure N orders exist, adding the missing ones from one or more processes.

Making orders and handing their values to the driver is pure Python, and the
database works while we wait for it: with two writers, each making its next
batch while the other's is being inserted, both cores stay busy. Each worker
process builds its own container from the environment and stores whole
batches, one transaction each. Workers ignore SIGINT: on Ctrl-C the parent
terminates them, a batch cut short is never committed, and the parent reports
what the database holds.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from multiprocessing.util import Finalize
from typing import TextIO

from logistic.container import Container, container_from_environment, without_database_timeout
from logistic.entrypoints.progress import Progress
from logistic.services.seeding import BATCH_SIZE, Batch, Seeding, SeedPlan, random_seed

# This worker process's own service, built once when the worker starts.
_worker_seeding: Seeding | None = None


def default_workers(embedded: bool) -> int:
    # SQLite lets one writer in at a time: a second process adds only start-up and lock waits.
    return 1 if embedded else os.cpu_count() or 1


def seed_orders(
    container: Container,
    orders: int,
    seed: int | None = None,
    workers: int = 1,
    batch_size: int = BATCH_SIZE,
    out: TextIO | None = None,
) -> int:
    """Make sure at least `orders` orders are stored; returns how many were added.

    KeyboardInterrupt propagates, after a line saying how many orders are stored.
    """
    out = out if out is not None else sys.stdout
    seeding = container.seeding()
    plan = seeding.plan(orders, batch_size)
    if plan.missing == 0:
        print(f"{plan.stored:,} orders are stored ({orders:,} wanted): none added", file=out)
        return 0
    print(f"{plan.stored:,} orders are stored; adding {plan.missing:,}", file=out, flush=True)
    seed = random_seed() if seed is None else seed
    progress = Progress(plan.missing, "seeding")
    try:
        if workers > 1 and plan.missing > batch_size:
            _add_in_processes(plan, seed, workers, progress.advance)
        else:
            for batch in plan.batches():
                progress.advance(seeding.add(batch, seed))
    except KeyboardInterrupt:
        progress.finish()
        stored = seeding.stored()
        print(
            f"interrupted: {stored - plan.stored:,} orders added (whole batches only), "
            f"{stored:,} stored; the same command adds the rest",
            file=out,
            flush=True,
        )
        raise
    progress.finish()
    print(f"{plan.missing:,} orders added; {plan.wanted:,} stored", file=out, flush=True)
    return plan.missing


def _add_in_processes(
    plan: SeedPlan, seed: int, workers: int, advance: Callable[[int], None]
) -> None:
    pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_start_worker)
    try:
        for added in pool.imap_unordered(_add, [(batch, seed) for batch in plan.batches()]):
            advance(added)
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()


def _start_worker() -> None:
    global _worker_seeding
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    container = container_from_environment()
    without_database_timeout(container)
    # Run when the worker exits normally, so its connections are closed politely.
    Finalize(None, container.shutdown_resources, exitpriority=10)
    _worker_seeding = container.seeding()
    # What start-up made (modules, the contact pools) lives as long as the worker:
    # frozen, it is no longer traversed by each full collection during the batches.
    gc.freeze()


def _add(job: tuple[Batch, int]) -> int:
    assert _worker_seeding is not None, "the pool's initializer builds it"
    batch, seed = job
    return _worker_seeding.add(batch, seed)
