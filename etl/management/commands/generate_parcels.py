"""``manage.py generate_parcels --count N``: add N synthetic parcels for scale work, with a progress bar."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from tqdm import tqdm

from etl.synthetic import (
    DEFAULT_BATCH_SIZE,
    SyntheticParcelError,
    synthetic_commune_resolve,
    synthetic_parcels_generate,
    synthetic_request_check,
)


class _BarStream:
    """Lets tqdm redraw its bar through a command's stderr wrapper (no added newline, no colour)."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self._wrapper = wrapper

    def write(self, text: str) -> None:
        self._wrapper.write(text, style_func=str, ending="")

    def flush(self) -> None:
        self._wrapper.flush()

    @property
    def encoding(self) -> str | None:
        """The encoding of the real stream, from which tqdm decides whether to draw with Unicode blocks."""
        return getattr(self._wrapper, "encoding", None)


class Command(BaseCommand):
    help = "Add N synthetic parcels (SYN 0000001/C …) after the existing ones, for scale work."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--count", type=int, required=True, help="number of parcels to add (> 0)")
        parser.add_argument(
            "--commune", help="code of the commune the parcels belong to (default: the demo commune if present)"
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the lot-line jitter (default: 0)")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"parcels per INSERT statement (default: {DEFAULT_BATCH_SIZE})",
        )

    def handle(self, *args, **options) -> None:
        try:
            synthetic_request_check(count=options["count"], batch_size=options["batch_size"], seed=options["seed"])
            commune = synthetic_commune_resolve(code=options["commune"])
            with tqdm(total=options["count"], unit=" parcels", unit_scale=True, file=_BarStream(self.stderr)) as bar:
                summary = synthetic_parcels_generate(
                    count=options["count"],
                    commune=commune,
                    seed=options["seed"],
                    batch_size=options["batch_size"],
                    on_batch=bar.update,
                )
        except SyntheticParcelError as exc:
            raise CommandError(str(exc)) from exc
        where = f"commune {summary.commune_code}" if summary.commune_code else "no commune"
        self.stdout.write(
            f"{summary.first_reference} … {summary.last_reference}, {where}, area measured in EPSG:{summary.srid}"
        )
        self.stdout.write(f"generated {summary.count} parcels in {summary.seconds:.1f} s")
