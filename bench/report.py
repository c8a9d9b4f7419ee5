"""Results of the benchmarks and their page, ``docs/benchmarks.md``.

Each benchmark yields :class:`Section` objects (a summary row or two, how it was measured, the raw
numbers). They are kept in ``var/bench/<page>.results.json`` so that ``--only NAME`` replaces its own
sections and keeps the others' last results; the page is rewritten from that store after every run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import databases

DEFAULT_PAGE = databases.REPO / "docs" / "benchmarks.md"
# Sections appear on the page in this order; lookup sections (``lookup-10k``…) by growing scale.
ORDER = ["import", "lookup", "memory", "plans", "signing", "wfs", "tiles"]


@dataclass
class Row:
    """One line of the summary table."""

    benchmark: str
    ours: str
    peer: str
    ratio: float | None
    goal: str
    met: bool | None


@dataclass
class Section:
    """One benchmark's results: summary rows, the method in prose, details in Markdown, raw numbers."""

    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    method: str = ""
    details: str = ""
    raw: dict = field(default_factory=dict)
    skipped: str | None = None
    measured_at: str = ""
    machine: dict = field(default_factory=dict)
    quick: bool = False

    @classmethod
    def not_measured(cls, key: str, title: str, reason: str) -> Section:
        return cls(key=key, title=title, skipped=reason)

    @classmethod
    def from_dict(cls, data: dict) -> Section:
        rows = [Row(**row) for row in data.pop("rows", [])]
        return cls(rows=rows, **data)


def store_path(page: Path) -> Path:
    return databases.REPO / "var" / "bench" / f"{page.stem}.results.json"


def load(page: Path) -> dict[str, Section]:
    path = store_path(page)
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {key: Section.from_dict(value) for key, value in data.items()}


def save(page: Path, sections: dict[str, Section]) -> None:
    path = store_path(page)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: asdict(v) for k, v in sections.items()}, indent=1), encoding="utf-8")


def _sort_key(key: str) -> tuple[int, int, str]:
    name, _, scale = key.partition("-")
    rank = ORDER.index(name) if name in ORDER else len(ORDER)
    return rank, databases.scale_count(scale) if scale else 0, key


def _met(row: Row) -> str:
    if row.met is None:
        return "—"
    return "yes" if row.met else "**no**"


def _ratio(row: Row) -> str:
    return "—" if row.ratio is None else f"{row.ratio:.2f}"


MACHINE_LABELS = [
    ("date", "Measured"),
    ("cpu", "CPU"),
    ("memory", "Memory"),
    ("os", "System"),
    ("postgresql", "PostgreSQL"),
    ("postgis", "PostGIS"),
    ("gdal", "GDAL"),
    ("python", "Python"),
]


def render(sections: dict[str, Section], *, machine: dict) -> str:
    """The whole page: summary table, machine, then each benchmark's method and details."""
    ordered = [sections[key] for key in sorted(sections, key=_sort_key)]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); do not edit by hand. Every figure is a ratio against a",
        "peer measured in the same process and the same minutes (runs interleaved, order reversed every other",
        "round), as the median of several repetitions; the raw times follow each section. `python -m bench",
        "--only NAME` re-measures one benchmark (`import`, `lookup`, `memory`, `plans`, `signing`, `wfs`, `tiles`)",
        "and keeps the others' last results; `--quick` is a smoke run with fewer repetitions (its sections say so).",
        "",
        "## Summary",
        "",
        "| benchmark | ours | peer | ratio | goal | met? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for section in ordered:
        if section.skipped:
            lines.append(f"| {section.title} | — | — | — | — | {section.skipped} |")
        for row in section.rows:
            lines.append(f"| {row.benchmark} | {row.ours} | {row.peer} | {_ratio(row)} | {row.goal} | {_met(row)} |")
    lines += ["", "## Machine", "", "| | |", "| --- | --- |"]
    lines += [f"| {label} | {machine.get(key, 'unknown')} |" for key, label in MACHINE_LABELS]
    lines += [
        "",
        "Other work was running on the same machine at the same time (a shared development machine); the load",
        "average printed in each section says how much. Ratios hold up under such load far better than",
        "absolute times, which is why only ratios are compared with goals.",
    ]
    for section in ordered:
        lines += ["", f"## {section.title}", ""]
        if section.skipped:
            lines += [f"Not measured: {section.skipped}."]
            continue
        stamp = f"Measured {section.measured_at}" + (" — **quick smoke run, few repetitions**" if section.quick else "")
        if section.machine and section.machine.get("cpu") != machine.get("cpu"):
            stamp += f" on another machine ({section.machine.get('cpu')}, {section.machine.get('memory')})"
        lines += [stamp + ".", "", "**How.** " + section.method, "", section.details]
    return "\n".join(lines).rstrip() + "\n"


def write(page: Path, new_sections: list[Section], *, machine: dict, quick: bool) -> None:
    """Merge ``new_sections`` into the store and rewrite ``page`` from it."""
    sections = load(page)
    for section in new_sections:
        section.measured_at = section.measured_at or machine["date"]
        section.machine = machine
        section.quick = quick
        sections[section.key] = section
    save(page, sections)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(render(sections, machine=machine), encoding="utf-8")
