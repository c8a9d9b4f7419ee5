"""Benchmark: plans as GIS -- reading a DXF vs ``ogr2ogr``, and a PDF page -> COG vs ``pdftoppm`` + ``gdal_translate``.

(a) **DXF open + footprint extraction.** Ours is ``plans.dxf.read_dxf`` in this process (ezdxf: open, closed
outlines on the footprint layers, floors, units, measured areas), with the configured footprint and site
layers; the peer is ``ogr2ogr -f GPKG out.gpkg in.dxf --config DXF_CLOSED_LINE_AS_POLYGON TRUE`` as a
subprocess (every entity to a GeoPackage, closed polylines as polygons). Two files: a real drawing of the
shared data set (``dxf/libredwg/example_2018.dxf``, R2018) and a generated R2000 drawing of thousands of
closed LWPOLYLINE footprints on layer ``BATI``. ``manage.py inspect_plan FILE --json`` (what a user waits
for on the command line, Python and Django start-up included) is timed too, without a goal.

(b) **PDF page -> Cloud-Optimised GeoTIFF.** Ours is ``plans.pdf.page_to_cog`` (pypdfium2 render at 200 dpi,
white made transparent, RGBA, COG through rasterio with DEFLATE and overviews); the peer is ``pdftoppm -r
200 -png`` then ``gdal_translate -of COG -a_srs EPSG:26191 -a_ullr …`` with the same creation options
(RGB, no transparency), both subprocesses. The page is a generated A2 sheet of line work at 1:100,
georeferenced north-up so that ``-a_ullr`` expresses the same transformation.

Contenders run interleaved, order reversed every other round, each on fresh output paths (removed
untimed); ratio = median(ours) / median(peer).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

from bench import databases, timing
from bench.report import Row, Section

DXF_DIR = databases.REPO.parent / "shared" / "data" / "dxf"
REAL_DXF = DXF_DIR / "libredwg" / "example_2018.dxf"
DXF_GOAL = 2.0
SRID = 26191
ORIGIN = (296_600.0, 332_700.0)  # Casablanca, Merchich / Nord Maroc
PDF_SCALE = 100
PDF_DPI = 200
MM = 72 / 25.4


def run(*, root: str, quick: bool, scales: list[int], log: Callable[[str], None]) -> list[Section]:
    """Measure (a) and (b); a missing tool or file gives a section that says so."""
    missing = [tool for tool in ("ogr2ogr", "pdftoppm", "gdal_translate") if shutil.which(tool) is None]
    if missing:
        reason = f"skipped: {', '.join(missing)} not installed (apt-get install gdal-bin poppler-utils)"
        log(f"plans: {reason}")
        return [Section.not_measured("plans", "Plans: DXF and PDF vs GDAL and poppler", reason)]
    rounds = 2 if quick else 5
    workdir = Path(tempfile.mkdtemp(prefix="taamir-bench-plans-"))
    dbname = databases.import_database(root)
    try:
        generated = workdir / "generated.dxf"
        count = 1_000 if quick else 5_000
        write_footprints_dxf(generated, count=count)
        files = [(f"generated, {count:,} closed LWPOLYLINE footprints (R2000)", generated)]
        if REAL_DXF.is_file():
            files.insert(0, ("`libredwg/example_2018.dxf` (R2018, real)", REAL_DXF))
        else:
            log(f"plans: {REAL_DXF} is absent; only the generated DXF is measured")
        dxf_results = [(label, path, _measure_dxf(path, workdir, dbname, rounds, log)) for label, path in files]
        pdf = workdir / "sheet.pdf"
        lines = 2_000 if quick else 20_000
        write_sheet_pdf(pdf, lines=lines, width_mm=594, height_mm=420)
        pdf_result = _measure_pdf(pdf, workdir, rounds, log)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return [_section(dxf_results, pdf_result, lines=lines, rounds=rounds)]


# --- (a) DXF ----------------------------------------------------------------------------------------------


def _measure_dxf(path: Path, workdir: Path, dbname: str, rounds: int, log) -> dict:
    from django.conf import settings

    from plans import dxf

    options = {
        "footprint_layers": settings.TAAMIR_PLAN_FOOTPRINT_LAYERS,
        "site_layers": settings.TAAMIR_PLAN_SITE_LAYERS,
    }
    gpkg = workdir / "out.gpkg"
    outcome: dict = {}

    def ours() -> float:
        started = timing.now()
        extraction = dxf.read_dxf(path, **options)
        elapsed = timing.now() - started
        outcome["footprints"] = len(extraction.footprints)
        outcome["entities"] = extraction.entity_count
        return elapsed

    def command_line() -> float:
        command = databases.manage_command("inspect_plan", str(path), "--json")
        started = timing.now()
        result = subprocess.run(
            command, cwd=databases.REPO, env=databases.subprocess_env(dbname), capture_output=True, text=True
        )
        elapsed = timing.now() - started
        outcome["cli_ok"] = result.returncode == 0 and bool(json.loads(result.stdout or "null"))
        return elapsed

    def ogr2ogr() -> float:
        gpkg.unlink(missing_ok=True)
        command = ["ogr2ogr", "--config", "DXF_CLOSED_LINE_AS_POLYGON", "TRUE", "-f", "GPKG", str(gpkg), str(path)]
        started = timing.now()
        subprocess.run(command, check=True, capture_output=True)
        elapsed = timing.now() - started
        outcome["ogr_features"] = _gpkg_count(gpkg)
        return elapsed

    log(f"plans: DXF {path.name}: warm-up")
    ours()
    ogr2ogr()
    log(f"plans: DXF {path.name}: {rounds} interleaved rounds")
    result = timing.interleave(rounds, {"ours": ours, "ogr2ogr": ogr2ogr, "inspect_plan": command_line}, log=log)
    return {"result": result, "outcome": outcome, "profile": _profile_dxf(path, options)}


def _profile_dxf(path: Path, options: dict) -> list[tuple[str, float]]:
    """One more ``read_dxf``, split into ezdxf's parse (``open_drawing``), the extent, and the rest."""
    from plans import dxf

    spent: dict[str, float] = {}
    wrapped = {
        "open_drawing": "ezdxf: parse the file (`dxf.open_drawing`)",
        "_extent": "extent of the drawing (`dxf._extent`)",
        "_collect": "walk entities, closed outlines and labels (`dxf._collect`)",
        "_measure": "areas in metres (`dxf._measure`)",
    }
    originals = {name: getattr(dxf, name) for name in wrapped if hasattr(dxf, name)}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            started = timing.now()
            try:
                return function(*args, **kwargs)
            finally:
                spent[wrapped[name]] = spent.get(wrapped[name], 0.0) + timing.now() - started

        return wrapper

    for name, function in originals.items():
        setattr(dxf, name, timed(name, function))
    try:
        started = timing.now()
        dxf.read_dxf(path, **options)
        total = timing.now() - started
    finally:
        for name, function in originals.items():
            setattr(dxf, name, function)
    rows = sorted(spent.items(), key=lambda item: -item[1])
    rows.append(("the rest (classification, floors, georeferencing)", total - sum(spent.values())))
    rows.append(("total", total))
    return rows


def _gpkg_count(path: Path) -> int:
    result = subprocess.run(["ogrinfo", "-so", "-al", str(path)], capture_output=True, text=True, check=True)
    counts = [int(line.split(":")[1]) for line in result.stdout.splitlines() if line.startswith("Feature Count")]
    return sum(counts)


def write_footprints_dxf(path: Path, *, count: int, seed: int = 1) -> Path:
    """An R2000 DXF in metres with ``count`` closed 4-vertex LWPOLYLINE footprints on layer ``BATI`` (a grid)."""
    rng = random.Random(seed)
    side = int(count**0.5) + 1
    out = ["0", "SECTION", "2", "HEADER", "9", "$ACADVER", "1", "AC1015", "9", "$INSUNITS", "70", "6", "0", "ENDSEC"]
    out += ["0", "SECTION", "2", "ENTITIES"]
    for index in range(count):
        x0, y0 = (index % side) * 30.0, (index // side) * 30.0
        width, height = rng.uniform(8, 20), rng.uniform(8, 20)
        out += ["0", "LWPOLYLINE", "5", f"{0x100 + index:X}", "100", "AcDbEntity", "8", "BATI"]
        out += ["100", "AcDbPolyline", "90", "4", "70", "1"]
        for x, y in ((x0, y0), (x0 + width, y0), (x0 + width, y0 + height), (x0, y0 + height)):
            out += ["10", f"{x:.3f}", "20", f"{y:.3f}"]
    out += ["0", "ENDSEC", "0", "EOF"]
    path.write_text("\n".join(out) + "\n", encoding="ascii")
    return path


# --- (b) PDF -> COG ---------------------------------------------------------------------------------------


def _measure_pdf(pdf: Path, workdir: Path, rounds: int, log) -> dict:
    from plans.pdf import page_to_cog

    scale = 25.4 / 72 / 1000 * PDF_SCALE  # metres per point at 1:100
    transform = (scale, 0.0, ORIGIN[0], 0.0, scale, ORIGIN[1])
    width_pt, height_pt = 594 * MM, 420 * MM
    ullr = [ORIGIN[0], ORIGIN[1] + height_pt * scale, ORIGIN[0] + width_pt * scale, ORIGIN[1]]
    ours_out, png_root, peer_out = workdir / "ours.tif", workdir / "page", workdir / "peer.tif"
    outcome: dict = {}

    def ours() -> float:
        ours_out.unlink(missing_ok=True)
        started = timing.now()
        info = page_to_cog(pdf, page=1, transform=transform, srid=SRID, out_path=ours_out, dpi=PDF_DPI)
        elapsed = timing.now() - started
        outcome["ours"] = f"{info.width} x {info.height} px, {info.bands} bands, layout {info.layout or '?'}"
        outcome["ours_mb"] = ours_out.stat().st_size / 1e6
        return elapsed

    def peer() -> float:
        peer_out.unlink(missing_ok=True)
        png = png_root.with_suffix(".png")
        png.unlink(missing_ok=True)
        render = ["pdftoppm", "-r", str(PDF_DPI), "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(png_root)]
        translate = ["gdal_translate", "-q", "-of", "COG", "-a_srs", f"EPSG:{SRID}", "-a_ullr", *map(str, ullr)]
        translate += ["-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=2", "-co", "BLOCKSIZE=512", str(png), str(peer_out)]
        started = timing.now()
        subprocess.run(render, check=True, capture_output=True)
        subprocess.run(translate, check=True, capture_output=True)
        elapsed = timing.now() - started
        info = subprocess.run(["gdalinfo", str(peer_out)], capture_output=True, text=True, check=True).stdout
        size = next((line for line in info.splitlines() if line.startswith("Size is")), "?")
        outcome["peer"] = f"{size[8:]} px, layout {'COG' if 'LAYOUT=COG' in info else '?'}"
        outcome["peer_mb"] = peer_out.stat().st_size / 1e6
        return elapsed

    log("plans: PDF page -> COG: warm-up")
    ours()
    peer()
    log(f"plans: PDF page -> COG: {rounds} interleaved rounds")
    result = timing.interleave(rounds, {"ours": ours, "pdftoppm + gdal_translate": peer}, log=log)
    return {"result": result, "outcome": outcome}


def write_sheet_pdf(path: Path, *, lines: int, width_mm: float, height_mm: float, seed: int = 2) -> Path:
    """A one-page PDF of line work (``lines`` random segments, a frame, a title) in a compressed content stream."""
    rng = random.Random(seed)
    width, height = width_mm * MM, height_mm * MM
    ops = [b"0.3 w 0 0 0 RG", b"%.2f %.2f %.2f %.2f re S" % (10 * MM, 10 * MM, width - 20 * MM, height - 20 * MM)]
    for _ in range(lines):
        x, y = rng.uniform(15 * MM, width - 15 * MM), rng.uniform(15 * MM, height - 15 * MM)
        ops.append(b"%.2f %.2f m %.2f %.2f l S" % (x, y, x + rng.uniform(-60, 60), y + rng.uniform(-60, 60)))
    ops.append(b"BT /F1 14 Tf %.2f %.2f Td (Plan RDC - Echelle 1/%d) Tj ET" % (20 * MM, 20 * MM, PDF_SCALE))
    content = zlib.compress(b"\n".join(ops))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.3f %.3f] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>" % (width, height),
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


# --- the section ------------------------------------------------------------------------------------------


def _raw_table(result: timing.Interleaved) -> str:
    medians = result.medians()
    return "\n".join(
        f"| {name} | {timing.seconds(medians[name])} | {timing.raw_list(result.times[name])} |" for name in result.names
    )


def _section(dxf_results: list, pdf_result: dict, *, lines: int, rounds: int) -> Section:
    load = timing.load_average()
    rows: list[Row] = []
    details: list[str] = []
    raw: dict = {}
    for label, _path, measured in dxf_results:
        result, outcome = measured["result"], measured["outcome"]
        medians = result.medians()
        ratio = medians["ours"] / medians["ogr2ogr"]
        rows.append(
            Row(
                benchmark=f"DXF open + footprints, {label}: `read_dxf` vs `ogr2ogr -f GPKG`",
                ours=timing.seconds(medians["ours"]),
                peer=f"{timing.seconds(medians['ogr2ogr'])} (`ogr2ogr`)",
                ratio=ratio,
                goal=f"≤ {DXF_GOAL:g}",
                met=ratio <= DXF_GOAL,
            )
        )
        cli_ratio = medians["inspect_plan"] / medians["ogr2ogr"]
        rows.append(
            Row(
                benchmark=f"DXF, {label}: `manage.py inspect_plan --json` vs `ogr2ogr -f GPKG`",
                ours=timing.seconds(medians["inspect_plan"]),
                peer=f"{timing.seconds(medians['ogr2ogr'])} (`ogr2ogr`)",
                ratio=cli_ratio,
                goal="— (start-up included)",
                met=None,
            )
        )
        profile = measured["profile"]
        profile_rows = "\n".join(
            f"| {step} | {seconds * 1000:.0f} ms | {100 * seconds / profile[-1][1]:.0f} % |"
            for step, seconds in profile
        )
        details.append(
            f"""
**{label}** — ours found {outcome.get("footprints")} footprint(s) among {outcome.get("entities")} modelspace
entities; `ogr2ogr` wrote {outcome.get("ogr_features")} features; `inspect_plan` answered
{"with JSON" if outcome.get("cli_ok") else "**with an error**"}.

| contender | median | raw (s) |
| --- | --- | --- |
{_raw_table(result)}

Where one `read_dxf` spends its time (a separate run, functions of `plans.dxf` wrapped with timers):

| step | time | share |
| --- | --- | --- |
{profile_rows}
""".strip()
        )
        raw[label] = {"times": result.times, "profile": profile}

    result, outcome = pdf_result["result"], pdf_result["outcome"]
    medians = result.medians()
    peer_name = "pdftoppm + gdal_translate"
    ratio = medians["ours"] / medians[peer_name]
    rows.append(
        Row(
            benchmark=f"PDF A2 page ({lines:,} lines) → COG at {PDF_DPI} dpi: `page_to_cog` vs "
            "`pdftoppm` + `gdal_translate -of COG`",
            ours=timing.seconds(medians["ours"]),
            peer=f"{timing.seconds(medians[peer_name])} (`pdftoppm` + `gdal_translate`)",
            ratio=ratio,
            goal=f"— (measured {ratio:.2f})",
            met=None,
        )
    )
    details.append(
        f"""
**PDF page → COG** — ours wrote {outcome.get("ours")} ({outcome.get("ours_mb", 0):.1f} MB, white transparent);
the peer wrote {outcome.get("peer")} ({outcome.get("peer_mb", 0):.1f} MB, RGB).

| contender | median | raw (s) |
| --- | --- | --- |
{_raw_table(result)}
""".strip()
    )
    raw["pdf"] = {"times": result.times}
    method = f"""
(a) `plans.dxf.read_dxf(FILE, footprint_layers=TAAMIR_PLAN_FOOTPRINT_LAYERS, site_layers=TAAMIR_PLAN_SITE_LAYERS)`
in this process vs `ogr2ogr --config DXF_CLOSED_LINE_AS_POLYGON TRUE -f GPKG out.gpkg FILE` as a subprocess
(output removed untimed before each run), plus `manage.py inspect_plan FILE --json` as a subprocess without a
goal; files: the real `dxf/libredwg/example_2018.dxf` of the shared data set and a generated R2000 drawing of
closed LWPOLYLINE footprints (`bench.plans.write_footprints_dxf`). (b) `plans.pdf.page_to_cog(sheet.pdf,
page=1, transform=<1:{PDF_SCALE}, north-up>, srid={SRID}, dpi={PDF_DPI})` in this process vs `pdftoppm -r {PDF_DPI}
-png -singlefile` followed by `gdal_translate -of COG -a_srs EPSG:{SRID} -a_ullr … -co COMPRESS=DEFLATE -co
PREDICTOR=2 -co BLOCKSIZE=512`, both subprocesses, on a generated A2 sheet of {lines:,} line segments
(`bench.plans.write_sheet_pdf`). One untimed warm-up of each, then {rounds} interleaved rounds, order reversed
every other round; ratio = median(ours) / median(peer). The PDF ratio has no goal: it is reported as
measured. Load average (1/5/15 min) at the end: {load}.
""".strip()
    return Section(
        key="plans",
        title="Plans: DXF and PDF vs GDAL and poppler",
        rows=rows,
        method=method,
        details="\n\n".join(details),
        raw=raw,
    )
