"""Benchmarks of Taamir against peers, run by ``make bench`` (``python -m bench``).

Every number is a ratio against a peer measured in the same process and the same minute (runs are
interleaved), so a busy or slow machine moves both sides together. Three benchmarks:

``import``   ``layer_import`` of a real cadastre (13,116 Cambridge parcels) vs ``ogr2ogr`` into PostGIS,
             in-process and as command-line tools (:mod:`bench.importing`).
``lookup``   ``GET /api/parcels/?lon=&lat=`` vs the bare SQL doing the same work through psycopg, at
             10,000 and 1,000,000 parcels (:mod:`bench.lookup`).
``memory``   peak resident memory and elapsed time of generating and of importing 1,000,000 parcels,
             under ``/usr/bin/time -v`` (:mod:`bench.memory`).

The runner works in scratch databases of its own (:mod:`bench.databases`), never in the demo
database, and rewrites ``docs/benchmarks.md`` (:mod:`bench.report`).
"""
