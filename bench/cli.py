"""The command line of ``python -m bench``: choose benchmarks and scales, run them, rewrite the page.

``python -m bench`` runs everything (minutes: the million-parcel dataset is built on the first run,
then reused). ``--only import|lookup|memory`` runs one; ``--scale 10000,1000000`` sets the lookup
datasets (the memory benchmark uses the largest); ``--quick`` is a smoke run with fewer repetitions.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from datetime import datetime
from pathlib import Path

from bench import databases

# The first three are built in; each of the others is a module ``bench.<name>`` whose
# ``run(*, root, quick, scales, log) -> list[Section]`` measures one feature against its peer.
PLUGGED = ("plans", "signing", "wfs", "tiles")
BENCHMARKS = ("import", "lookup", "memory", *PLUGGED)
DEFAULT_SCALES = "10000,1000000"


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _scales(text: str) -> list[int]:
    try:
        values = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--scale {text!r}: expected counts such as 10000,1000000") from exc
    if not values or values[0] <= 0:
        raise argparse.ArgumentTypeError(f"--scale {text!r}: expected positive counts")
    return values


def _only(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"--only {text!r}: choose from {', '.join(BENCHMARKS)}")
    return names


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run the benchmarks against their peers, in scratch databases, and rewrite docs/benchmarks.md.",
    )
    parser.add_argument(
        "--only",
        type=_only,
        default=list(BENCHMARKS),
        metavar="NAME",
        help=", ".join(BENCHMARKS) + " (comma-separated)",
    )
    parser.add_argument(
        "--scale", type=_scales, default=_scales(DEFAULT_SCALES), help=f"parcel counts (default {DEFAULT_SCALES})"
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: a smoke run")
    parser.add_argument("--output", type=Path, default=None, help="the page to rewrite (default docs/benchmarks.md)")
    parser.add_argument(
        "--database",
        metavar="ROOT",
        help="root name of the scratch databases (default: the configured name + _bench)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    databases.django_setup()

    from bench import importing, lookup, memory, report
    from bench.machine import machine_info

    configured = databases.configured_name()
    root = args.database or databases.root_name(configured)
    page = args.output or report.DEFAULT_PAGE
    log(f"settings database {configured!r}; scratch databases {root}_import, {root}_<scale>; page {page}")
    databases.ensure_database(databases.import_database(root), log=log)
    machine = machine_info(databases.import_database(root))

    sections = []
    if "import" in args.only:
        sections += importing.run(root=root, rounds=2 if args.quick else 7, log=log)
    if "lookup" in args.only:
        for count in args.scale:
            sections.append(
                lookup.run(
                    root=root,
                    count=count,
                    points=50 if args.quick else 300,
                    rounds=1 if args.quick else 3,
                    log=log,
                )
            )
    if "memory" in args.only:
        sections.append(memory.run(root=root, count=max(args.scale), log=log))
    for name in PLUGGED:
        if name in args.only:
            module = importlib.import_module(f"bench.{name}")
            sections += module.run(root=root, quick=args.quick, scales=args.scale, log=log)

    report.write(page, sections, machine=machine, quick=args.quick)
    log(f"wrote {page}")
    for section in sections:
        if section.skipped:
            print(f"{section.title}: {section.skipped}")
        for row in section.rows:
            ratio = "" if row.ratio is None else f", ratio {row.ratio:.2f}"
            met = "" if row.met is None else (", goal met" if row.met else ", goal NOT met")
            print(f"{row.benchmark}: ours {row.ours}, peer {row.peer}{ratio} (goal {row.goal}{met})")
    return 0
