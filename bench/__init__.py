"""The benchmark suite: `python -m bench` (see run.py)."""
