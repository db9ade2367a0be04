"""The figures of a bench run, their targets, and the markdown table that judges them,
as the issue set the targets and again scaled to the machine's own speed."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

# The speed of the machine, where the targets were set: its ceiling app's
# req/s under granian -w 2 (docs/performance.md).
REFERENCE_CEILING = 14_000


@dataclass
class Bound:
    """A target: at least `limit` (a rate) or at most `limit` (a time or a size).

    A target that `scales` is a speed of this machine: `holds` at `speed` (this
    machine's ceiling against the issue's, REFERENCE_CEILING) asks for `limit` times
    `speed` of a rate, or allows `limit` divided by `speed` of a time.
    """

    limit: float
    at_least: bool = False
    scales: bool = True

    def scaled(self, speed: float = 1.0) -> float:
        if not self.scales:
            return self.limit
        return self.limit * speed if self.at_least else self.limit / speed

    def holds(self, value: float, speed: float = 1.0) -> bool:
        limit = self.scaled(speed)
        return value >= limit if self.at_least else value <= limit


@dataclass
class Figure:
    """Repeated measurements of one figure, in the unit named."""

    name: str
    unit: str
    target: str = ""
    bound: Bound | None = None
    p99_bound: Bound | None = None  # its p99 too, in ms (the hits' and the misses')
    values: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    note: str = ""
    # CPU milliseconds per request, by process group, one entry per run.
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def median(self) -> float:
        return statistics.median(self.values)

    def verdict(self, speed: float = 1.0) -> str:
        if self.bound is None or not self.values:
            return ""
        ok = self.bound.holds(self.median(), speed)
        if self.p99_bound is not None and self.p99:
            ok = ok and self.p99_bound.holds(statistics.median(self.p99), speed)
        return "yes" if ok else "**no**"


def spread(values: Sequence[float], digits: int) -> str:
    if not values:
        return "-"
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:,.{digits}f}"
    return f"{median:,.{digits}f} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


class FigureTable:
    """The figures of one run by name, in the order first measured; ratios between them;
    notes; and the table of them all."""

    def __init__(self) -> None:
        self.figures: dict[str, Figure] = {}
        self.ratios: dict[str, Figure] = {}
        self.notes: list[str] = []
        # Orders added by this run's seedings, and the seconds they took.
        self.seeded: tuple[int, float] = (0, 0.0)

    def figure(self, name: str, unit: str, **extra: object) -> Figure:
        return self.figures.setdefault(name, Figure(name, unit, **extra))  # type: ignore[arg-type]

    def seeding(self, added: int, seconds: float) -> None:
        """One more seeding of `added` orders in `seconds`."""
        rate = self.figure("seeding rate", "orders/s", target="1M in ≤ 120 s")
        rate.bound = Bound(1_000_000 / 120, at_least=True)
        # One rate over every seeding of this run (100,000 then 900,000 make the
        # million the target names), not a median of the phases' rates.
        self.seeded = (self.seeded[0] + added, self.seeded[1] + seconds)
        rate.values = [self.seeded[0] / self.seeded[1]]
        rate.note += f"{added:,} orders in {seconds:.0f} s; "

    def ratio(self, name: str, top: str, bottom: str) -> None:
        upper, lower = self.figures.get(top), self.figures.get(bottom)
        if upper is None or lower is None:
            return
        figure = self.ratios.setdefault(name, Figure(name, ""))
        # Runs of one round were taken side by side: pair them round by round.
        figure.values = [a / b for a, b in zip(upper.values, lower.values, strict=False) if b]
        if name.endswith("(granian)"):
            figure.target = "≥ 0.7"
            # Already a fraction of this machine's own ceiling: it does not scale.
            figure.bound = Bound(0.7, at_least=True, scales=False)

    def cpu_ratio(
        self, name: str, top: str, bottom: str, limit: float, group: str = "service"
    ) -> None:
        """`group`'s CPU per request in `top` over that in `bottom`, paired round by round;
        at most `limit` (a ratio within one run: it does not scale)."""
        upper, lower = self.figures.get(top), self.figures.get(bottom)
        if upper is None or lower is None:
            return
        pairs = zip(upper.cpu.get(group, []), lower.cpu.get(group, []), strict=False)
        figure = self.ratios.setdefault(name, Figure(name, ""))
        figure.values = [a / b for a, b in pairs if b]
        figure.target = f"≤ {limit}"
        figure.bound = Bound(limit, scales=False)

    def markdown(self, heading: Sequence[str]) -> str:
        """The table under `heading` (its lines): the ratios, the figures, the notes, and
        the targets scaled to this machine."""
        lines = [
            *heading,
            "",
            "| ratio | median (range) | target | holds |",
            "|---|---|---|---|",
        ]
        for ratio in self.ratios.values():
            lines.append(
                f"| {ratio.name} | {spread(ratio.values, 2)} | {ratio.target} | {ratio.verdict()} |"
            )
        lines += [
            "",
            "| figure | value, median (range) | p50 ms | p99 ms | target | holds | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for figure in self.figures.values():
            value = f"{spread(figure.values, _digits(figure.unit))} {figure.unit}"
            p50 = spread(figure.p50, 2) if figure.p50 else ""
            p99 = spread(figure.p99, 2) if figure.p99 else ""
            verdict = self.verdict(figure)
            note = figure.note.rstrip("; ")
            if figure.cpu:
                note += "CPU ms per request: " + ", ".join(
                    f"{group} {statistics.median(values):.2f}"
                    for group, values in figure.cpu.items()
                )
            cells = [figure.name, value, p50, p99, figure.target, verdict, note]
            lines.append("| " + " | ".join(cells) + " |")
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines + self.scaled()) + "\n"

    def verdict(self, figure: Figure, speed: float = 1.0) -> str:
        """Whether `figure` holds its target, on a machine `speed` times the issue's."""
        hit_ratio = self.ratios.get("cache hit c8 / ceiling (granian)")
        if figure.name == "hit c8" and hit_ratio is not None and figure.p99_bound:
            ok = hit_ratio.verdict() == "yes" and figure.p99_bound.holds(
                statistics.median(figure.p99), speed
            )
            return "yes" if ok else "**no**"
        return figure.verdict(speed)

    def scaled(self) -> list[str]:
        """The targets again, scaled to this machine's speed as its ceiling tells it."""
        ceiling = self.figures.get("ceiling, granian -w 2 c8")
        if ceiling is None or not ceiling.values or ceiling.median() <= 0:
            return []  # no ceiling measured, or one that answered nothing: no speed to scale by
        speed = ceiling.median() / REFERENCE_CEILING
        lines = [
            "",
            f"**Scaled to this machine.** Its ceiling did {ceiling.median():,.0f} req/s, "
            f"{speed:.2f} of the issue's (about {REFERENCE_CEILING:,}, where the targets were "
            f"set): each rate target times {speed:.2f}, each time target divided by it "
            "(memory and the ratio to the ceiling unchanged). The verdicts above are the "
            "issue's own.",
            "",
            "| figure | value, median | p99 ms | scaled target | holds, scaled |",
            "|---|---|---|---|---|",
        ]
        for figure in self.figures.values():
            if (figure.bound is None and figure.p99_bound is None) or not figure.values:
                continue
            digits = _digits(figure.unit)
            targets = ["≥ 0.7 of the ceiling"] if figure.name == "hit c8" else []
            if figure.bound is not None:
                sign = "≥" if figure.bound.at_least else "≤"
                targets.append(f"{sign} {figure.bound.scaled(speed):,.{digits}f} {figure.unit}")
            if figure.p99_bound is not None:
                targets.append(f"p99 ≤ {figure.p99_bound.scaled(speed):.2f} ms")
            p99 = f"{statistics.median(figure.p99):.2f}" if figure.p99 else ""
            value = f"{figure.median():,.{digits}f} {figure.unit}"
            cells = [figure.name, value, p99, ", ".join(targets), self.verdict(figure, speed)]
            lines.append("| " + " | ".join(cells) + " |")
        return lines


def _digits(unit: str) -> int:
    return 3 if unit == "s" else (1 if unit.startswith(("ms", "MiB")) else 0)
