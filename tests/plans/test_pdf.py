"""The PDF reader: page facts and declared scale read, refused files refused, pages rendered and georeferenced."""

from __future__ import annotations

import io
import math
import subprocess

import pytest
import rasterio
from django.utils import translation
from PIL import Image

from plans import georef
from plans.extraction import PlanRefused
from plans.pdf import find_declared_scales, page_to_cog, read_pdf, render_page_png
from tests.plans import pdf_fixtures as fx

MM = fx.MM


@pytest.fixture(autouse=True)
def english():
    """Messages are matched in English (the site's default language is French)."""
    with translation.override("en"):
        yield


def test_a_plan_sheet_is_read(tmp_path):
    path = fx.plan_pdf(tmp_path / "plan.pdf", text="Plan de masse\nÉchelle 1/100\nDate 12/03/2024")
    extraction = read_pdf(path)
    assert extraction.format == "pdf"
    assert extraction.format_version == "PDF 1.7"
    assert extraction.units == "pt"
    assert (extraction.page, extraction.page_count) == (1, 1)
    assert extraction.page_size_mm == (420.0, 297.0)
    assert extraction.extent == pytest.approx((0, 0, 420 * MM, 297 * MM), abs=0.01)
    assert extraction.declared_scale == 100
    assert extraction.metres_per_unit == pytest.approx(0.1 * 25.4 / 72)  # 1 pt on paper = 3.53 cm at 1:100
    assert extraction.warnings == []
    assert extraction.crs_srid is None and extraction.crs_source == "none"
    assert extraction.entity_count >= 2  # the rectangle and the text


def test_a_compressed_pdf_1_5_sheet_is_read(tmp_path):
    path = fx.plan_pdf(tmp_path / "plan.pdf", text="ECHELLE : 1/50", object_stream=True)
    assert b"/Type /Catalog" not in path.read_bytes()  # the dictionaries are in the compressed object stream
    extraction = read_pdf(path)
    assert extraction.declared_scale == 50


def test_a_rotated_page_is_measured_as_displayed(tmp_path):
    extraction = read_pdf(fx.plan_pdf(tmp_path / "plan.pdf", text="1/200", rotate=90))
    assert extraction.page_size_mm == (297.0, 420.0)
    assert extraction.declared_scale == 200


def test_pages_are_chosen_and_checked(tmp_path):
    path = fx.plan_pdf(tmp_path / "plan.pdf", text="Echelle 1/100", pages=2)
    assert read_pdf(path, page=2).page == 2
    assert read_pdf(path, page=2).page_count == 2
    for page in (0, 3):
        with pytest.raises(PlanRefused, match=f"Page {page} does not exist: the PDF has 2 page"):
            read_pdf(path, page=page)


def test_a_sheet_without_a_scale_asks_for_a_calibration(tmp_path):
    extraction = read_pdf(fx.plan_pdf(tmp_path / "plan.pdf", text="Façade nord"))
    assert extraction.declared_scale is None
    assert extraction.metres_per_unit is None
    assert extraction.warnings == [
        "No drawing scale found on the page: calibrate the scale (two points and a known distance) to measure."
    ]


def test_several_scales_are_reported(tmp_path):
    extraction = read_pdf(fx.plan_pdf(tmp_path / "plan.pdf", text="Plan 1/100\nSituation 1/2000"))
    assert extraction.declared_scale == 100
    assert "1:100, 1:2000" in extraction.warnings[0]


@pytest.mark.parametrize(
    ("caption", "scale"),
    [("مقياس الرسم 1/500", 500), ("Échelle 1/250 — le 01/02/2025", 250), ("Scale 1:1 000", 1000)],
)
def test_sheets_drawn_with_embedded_fonts(tmp_path, caption, scale):
    direction = "rtl" if caption.startswith("م") else "ltr"
    path = fx.weasyprint_plan(tmp_path / "plan.pdf", caption=caption, direction=direction)
    extraction = read_pdf(path)
    assert extraction.declared_scale == scale
    assert extraction.page_size_mm == (297.0, 210.0)


@pytest.mark.parametrize(
    ("text", "scales"),
    [
        ("Échelle 1/100", [100]),
        ("ECHELLE : 1/50", [50]),
        ("echelle: 1 / 200", [200]),
        ("Ech. 1/250", [250]),
        ("Scale 1:200", [200]),
        ("SCALE 1:20", [20]),
        ("Échelle 1/1 000", [1000]),
        ("Échelle 1/5", [5]),  # a detail: believed next to the keyword
        ("مقياس الرسم 1/500", [500]),
        ("السلم : 1/200", [200]),
        ("مقياس ١/٢٠٠", [200]),  # Arabic-Indic digits
        ("1/100", [100]),
        ("PLAN RDC 1:50", [50]),
        ("Plan 1/100 et situation 1/2000", [100, 2000]),
        ("Échelle 1/100 — détail 1/20", [100]),  # the keyword's scale wins; bare ones are not read then
        ("Fait le 1/12/2024", []),
        ("Date : 01/10/2025", []),
        ("Heure 1:30", []),
        ("Lot 11/100", []),
        ("Indice 1/3", []),
        ("Surface 1.100 m²", []),
        ("", []),
    ],
)
def test_declared_scales_are_found_and_dates_are_not(text, scales):
    assert find_declared_scales(text) == scales


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: fx.write(p, b"GIF89a not a pdf"), "not a PDF"),
        (lambda p: fx.write(p, b""), "not a PDF"),
        (fx.encrypted_pdf, "encrypted or password-protected"),
        (lambda p: fx.encrypted_pdf(p, user_password=""), "encrypted or password-protected"),
        (fx.javascript_open_action_pdf, "JavaScript"),
        (lambda p: fx.javascript_open_action_pdf(p, object_stream=True), "JavaScript"),
        (lambda p: fx.javascript_open_action_pdf(p, object_stream=True, escaped=True), "JavaScript"),
        (fx.document_javascript_pdf, "JavaScript"),
        (fx.page_additional_action_pdf, "automatic actions"),
        (lambda p: fx.plan_pdf(p, pages=0), "no pages"),
        (lambda p: fx.write(p, b"%PDF-1.7\n1 0 obj garbage"), "damaged"),
    ],
)
def test_refused_files(tmp_path, make, reason):
    path = make(tmp_path / "bad.pdf")
    with pytest.raises(PlanRefused, match=reason):
        read_pdf(path)
    with pytest.raises(PlanRefused, match=reason):
        render_page_png(path, page=1)


def test_javascript_hidden_in_a_compressed_object_stream_is_found(tmp_path):
    path = fx.javascript_open_action_pdf(tmp_path / "bad.pdf", object_stream=True)
    raw = path.read_bytes()
    assert b"/JS" not in raw and b"JavaScript" not in raw and b"OpenAction" not in raw
    with pytest.raises(PlanRefused, match="JavaScript"):
        read_pdf(path)


@pytest.mark.parametrize("cut", ["truncated", "garbled", "overwritten"])
def test_damaged_files_are_refused(tmp_path, cut):
    good = fx.plan_pdf(tmp_path / "good.pdf", text="Echelle 1/100").read_bytes()
    data = {
        "truncated": good[: len(good) // 2],
        "garbled": good[:200] + b"\x00" * 300 + good[500:],
        "overwritten": good[:9] + b"x" * (len(good) - 9),
    }[cut]
    with pytest.raises(PlanRefused, match="damaged"):
        read_pdf(fx.write(tmp_path / "bad.pdf", data))


def test_refusals_speak_the_users_language(tmp_path):
    path = fx.encrypted_pdf(tmp_path / "bad.pdf")
    with translation.override("fr"), pytest.raises(PlanRefused, match="chiffré"):
        read_pdf(path)
    with translation.override("ar"), pytest.raises(PlanRefused, match="مشفّر"):
        read_pdf(path)


def test_a_page_renders_as_png(tmp_path):
    path = fx.plan_pdf(tmp_path / "plan.pdf", text="Echelle 1/100")
    png = render_page_png(path, page=1, dpi=72)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (round(420 * MM), round(297 * MM))
    # The rectangle's bottom-left corner, 20 mm from the left and bottom edges, is drawn in black.
    column, row = round(20 * MM), round(image.size[1] - 20 * MM)
    pixels = [image.getpixel((column + dx, row + dy))[:3] for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    assert min(min(p) for p in pixels) < 100
    assert image.getpixel((5, 5))[:3] == (255, 255, 255)


def _sheet_transform():
    """Drawing points -> Merchich / Nord Maroc metres for a sheet at 1:100 turned by 20 degrees."""
    scale = georef.metres_per_point(100)
    angle = math.radians(20)
    return (scale * math.cos(angle), -scale * math.sin(angle), 296_600.0, scale * math.sin(angle),
            scale * math.cos(angle), 332_700.0)  # fmt: skip


def test_a_georeferenced_page_becomes_a_cog(tmp_path):
    path = fx.plan_pdf(tmp_path / "plan.pdf", text="Echelle 1/100")
    transform = _sheet_transform()
    # The sheet's control points: three rectangle corners (points) and where they are on the ground.
    corners = [(20 * MM, 20 * MM), (120 * MM, 20 * MM), (120 * MM, 70 * MM), (20 * MM, 70 * MM)]
    fitted = georef.fit(pairs=[(c, georef.transform_point(transform, *c)) for c in corners])
    out = tmp_path / "derived" / "plan.tif"
    info = page_to_cog(path, page=1, transform=fitted.coefficients, srid=26191, out_path=out, dpi=100)
    assert info.srid == 26191
    assert info.layout == "COG"
    assert info.overviews >= 1
    assert "LAYOUT=COG" in subprocess.run(["gdalinfo", str(out)], capture_output=True, text=True, check=True).stdout
    with rasterio.open(out) as dataset:
        assert dataset.crs.to_epsg() == 26191
        assert dataset.count == 4
        assert dataset.profile["tiled"]
        assert dataset.width == round(420 * MM * 100 / 72)
        # Each corner's world position falls on the drawn rectangle: dark and opaque.
        for corner in corners:
            row, col = dataset.index(*georef.transform_point(transform, *corner))
            window = dataset.read(window=((row - 1, row + 2), (col - 1, col + 2)))
            assert window[3].max() == 255
            assert window[:3].min() < 128
        # Paper white is transparent: the middle of the rectangle.
        row, col = dataset.index(*georef.transform_point(transform, 70 * MM, 45 * MM))
        assert dataset.read(4, window=((row, row + 1), (col, col + 1)))[0, 0] == 0
        # The raster's footprint is the sheet at 1:100: 42 m x 29.7 m (turned by 20 degrees).
        assert math.hypot(dataset.transform.a, dataset.transform.d) * dataset.width == pytest.approx(42.0, rel=1e-3)


def test_a_north_up_cog_for_web_maps(tmp_path):
    path = fx.plan_pdf(tmp_path / "plan.pdf", text="Echelle 1/100")
    transform = _sheet_transform()
    out = tmp_path / "plan.tif"
    info = page_to_cog(path, page=1, transform=transform, srid=26191, out_path=out, dpi=72, north_up=True)
    with rasterio.open(out) as dataset:
        assert dataset.transform.is_rectilinear
        corner = (120 * MM, 20 * MM)
        row, col = dataset.index(*georef.transform_point(transform, *corner))
        assert dataset.read(4, window=((row - 1, row + 2), (col - 1, col + 2))).max() == 255
        assert dataset.read(4, window=((0, 1), (0, 1)))[0, 0] == 0  # outside the turned sheet
    minx, miny, maxx, maxy = info.bounds
    sheet = [georef.transform_point(transform, x, y) for x in (0, 420 * MM) for y in (0, 297 * MM)]
    xs, ys = zip(*sheet, strict=True)
    assert (minx, miny, maxx, maxy) == pytest.approx((min(xs), min(ys), max(xs), max(ys)), abs=0.05)


def test_a_refused_pdf_writes_no_cog(tmp_path):
    path = fx.javascript_open_action_pdf(tmp_path / "bad.pdf")
    out = tmp_path / "derived" / "plan.tif"
    with pytest.raises(PlanRefused):
        page_to_cog(path, page=1, transform=_sheet_transform(), srid=26191, out_path=out)
    assert not out.exists()
