"""``python -m bench``: run the benchmarks and rewrite ``docs/benchmarks.md`` (see :mod:`bench.cli`)."""

from bench.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
