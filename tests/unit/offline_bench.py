"""A bench (bench/run.py) built for tests of its bookkeeping: it reaches no server."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import run


def offline_bench(home: Path) -> run.Bench:
    args = argparse.Namespace(
        home=str(home),
        redis_url="redis://127.0.0.1:1/9",  # never reached: nothing is sent
        database_url="mysql+mysqldb://root@127.0.0.1/unused",
        workers=None,
        threads=None,
        only=None,
        duration=10,
        rounds=1,
    )
    return run.Bench(args)
