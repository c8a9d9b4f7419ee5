"""Timing helpers: interleaved repetitions of ours and a peer, medians, and how numbers are written."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def now() -> float:
    return time.perf_counter()


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (0–1) by linear interpolation between the closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


@dataclass
class Interleaved:
    """Timings (seconds) of several contenders measured round by round, in alternating order."""

    names: list[str]
    times: dict[str, list[float]] = field(default_factory=dict)

    def medians(self) -> dict[str, float]:
        return {name: median(self.times[name]) for name in self.names}

    def ratio(self, ours: str, peer: str) -> float:
        return median(self.times[ours]) / median(self.times[peer])


def interleave(rounds: int, contenders: dict[str, Callable[[], float]], *, log=None) -> Interleaved:
    """Run each contender once per round, reversing the order every other round (ABBA…).

    A contender does its own untimed set-up and returns the seconds it measured, so a drift of the
    machine's load hits every contender alike and the ratio of medians stays meaningful.
    """
    names = list(contenders)
    result = Interleaved(names=names, times={name: [] for name in names})
    for index in range(rounds):
        order = names if index % 2 == 0 else names[::-1]
        for name in order:
            seconds = contenders[name]()
            result.times[name].append(seconds)
            if log:
                log(f"  round {index + 1}/{rounds} {name}: {seconds:.3f} s")
    return result


def seconds(value: float) -> str:
    """``0.01234`` → ``12.3 ms``; ``1.5`` → ``1.50 s``; ``312`` → ``312 s (5 min 12 s)``."""
    if value < 1:
        return f"{value * 1000:.3g} ms" if value < 0.1 else f"{value * 1000:.0f} ms"
    if value < 100:
        return f"{value:.2f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{value:.0f} s ({minutes} min {rest:02d} s)"


def milliseconds(value: float) -> str:
    return f"{value * 1000:.2f} ms"


def raw_list(values: list[float], unit: str = "s") -> str:
    """Raw timings, in the order measured: ``0.712, 0.698, …`` (seconds) or milliseconds."""
    scale, digits = (1000, 2) if unit == "ms" else (1, 3)
    return ", ".join(f"{v * scale:.{digits}f}" for v in values)
