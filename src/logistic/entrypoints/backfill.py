"""`logistic ingest FILE.jsonl`: a file of scans, one JSON object a line, sent through the
same service as POST /events (not over HTTP), a batch at a time, with a progress bar."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TextIO

from attrs import define

from logistic.container import Container
from logistic.domain.errors import DomainError, InvalidInput, StorageUnavailable
from logistic.entrypoints.http.errors import status_for
from logistic.entrypoints.http.event_items import parse_item
from logistic.entrypoints.http.json_body import unique_keys
from logistic.entrypoints.progress import Progress
from logistic.services.ingest import Item

BATCH = 500
# Item keys are the caller's own: those of the command are kept apart from any API key's.
CALLER = "cli"


@define
class Tally:
    applied: int = 0
    replayed: int = 0
    skipped: int = 0


def ingest_lines(
    container: Container,
    lines: Iterable[str],
    total: int,
    errors: TextIO,
    progress_stream: TextIO | None = None,
) -> Tally:
    """Apply the events of `lines` (`total` lines), a batch at a time; each line that
    cannot be read or is refused is reported on `errors` with its number, and skipped.

    A line is one event: applied whole or not at all. When the database fails, the
    batches before have been applied and DomainError names the lines that were not.
    """
    tally = Tally()
    progress = Progress(total, "ingesting", stream=progress_stream)
    service = container.ingest()
    try:
        for batch in _batches(lines, tally, errors):
            try:
                outcomes = service.apply(CALLER, [item for _, item in batch])
            except StorageUnavailable as error:
                raise DomainError(
                    f"{error}; lines before {batch[0][0]} were applied, from it on none was:"
                    " run again from there (lines with an idempotency_key are never applied twice)"
                ) from error
            for (number, _), outcome in zip(batch, outcomes, strict=True):
                if outcome.error is not None:
                    _skip(errors, number, f"sno {outcome.sno}: {_described(outcome.error)}")
                    tally.skipped += 1
                elif outcome.replayed:
                    tally.replayed += 1
                else:
                    tally.applied += 1
            progress.advance(batch[-1][0] - progress.done)
        progress.advance(total - progress.done)
    finally:
        progress.finish()
    return tally


def _batches(
    lines: Iterable[str], tally: Tally, errors: TextIO
) -> Iterator[list[tuple[int, Item]]]:
    batch: list[tuple[int, Item]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = parse_item(_json(line))
        except InvalidInput as error:
            _skip(errors, number, str(error))
            tally.skipped += 1
            continue
        batch.append((number, item))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _json(line: str) -> object:
    try:
        return json.loads(line, object_pairs_hook=unique_keys)
    except (ValueError, RecursionError):
        raise InvalidInput("not a JSON object") from None


def _described(error: DomainError) -> str:
    return f"{error} ({status_for(error)})"


def _skip(errors: TextIO, number: int, why: str) -> None:
    errors.write(f"line {number}: skipped: {why}\n")
