"""PDF plans: the only module that imports pypdfium2.

:func:`read_pdf` opens a PDF, refuses what the platform will not keep (not a PDF, encrypted, carrying
JavaScript or automatic actions, damaged, no pages, page out of range) and reads one page: PDF version,
page count, page size, and the drawing scale written on the sheet ("Échelle 1/100", "ECHELLE : 1/50",
"Scale 1:200", "مقياس 1/500", or a bare "1/100"), from which a length on the page converts to metres.
:func:`render_page_png` renders a page for the viewer and :func:`page_to_cog` writes a georeferenced page as
a Cloud-Optimised GeoTIFF through ``plans.raster``.

Drawing coordinates of a PDF page are PDF points (1/72 inch) of the page as displayed (after its
``/Rotate``), origin at the bottom-left corner, y up: the point under pixel ``(col, row)`` of a render
at ``dpi`` is ``x = col * 72 / dpi``, ``y = height_pt - row * 72 / dpi``. Control points and
``PlanVersion.transform`` use these coordinates.
"""

from __future__ import annotations

import io
import math
import re
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from django.conf import settings
from django.utils.translation import gettext as _

from plans import georef
from plans.extraction import Extraction, PlanRefused
from plans.raster import RasterInfo, write_cog

MM_PER_POINT = 25.4 / 72

# Names whose presence makes a PDF active content: JavaScript, additional (automatic) actions, launching
# a program. Matched on the decoded name (``/J#53`` is ``/JS``) outside streams and inside object streams.
_ACTIVE_NAMES = {b"JS", b"JavaScript", b"AA", b"Launch"}
_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]+)")
_STREAM = re.compile(rb"stream\r?\n")
_ENDSTREAM = re.compile(rb"endstream")
_OBJ = re.compile(rb"\d+\s+\d+\s+obj\b")
_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z0-9#])")
_EMPTY_PAGE_TREE = re.compile(rb"/Count\s+0(?![0-9.])")
_MAX_INFLATED = 64 * 1024 * 1024  # object streams inflated for the scan, in total (a zip bomb stops here)

# Scales drawn without a keyword are only believed when they are usual drawing scales (a date or a time
# like "1/12" or "1:30" is not one).
_USUAL_SCALES = {20, 25, 50, 75, 100, 125, 150, 200, 250, 500, 1000, 1250, 2000, 2500, 5000, 10000, 20000, 25000}
_NUMBER = r"(\d{1,3}(?:[ .\u00a0\u202f]\d00)+|\d+)"
_AFTER = r"(?![\w/:]|[.,]\d|\s*[/:]\s*\d)"
_KEYWORD_SCALE = re.compile(
    r"(?:\b(?:[ée]chelle|[ée]ch|scale)\b\.?|مقياس(?:\s*الرسم)?|السلم|سلم)"
    r"[^\S\n]*[:=\-–]?[^\S\n]*(?:de\s+|au\s+)?1[^\S\n]*[/:][^\S\n]*" + _NUMBER + _AFTER,
    re.IGNORECASE,
)
_BARE_SCALE = re.compile(r"(?<![\w/.:,\-])1[^\S\n]*[/:][^\S\n]*" + _NUMBER + _AFTER)
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def read_pdf(path: Path, *, page: int = 1) -> Extraction:
    """Read page ``page`` (1-based) of the PDF at ``path``; raise :class:`PlanRefused` for a refused file."""
    with _open(path) as document:
        return _extract(document, page=page)


def read_pdf_with_preview(path: Path, *, page: int = 1, dpi: int | None = None) -> tuple[Extraction, bytes]:
    """:func:`read_pdf` and :func:`render_page_png` on one opening (and one safety scan) of the file."""
    with _open(path) as document:
        extraction = _extract(document, page=page)
        png = _png(_render(document, page=page, dpi=dpi or settings.TAAMIR_PLAN_PDF_DPI))
    return extraction, png


def _extract(document, *, page: int) -> Extraction:
    page_count = len(document)
    _check_page(page, page_count)
    pdf_page = document[page - 1]
    try:
        width, height = pdf_page.get_size()
        text = _page_text(pdf_page)
        entity_count = sum(1 for _obj in pdf_page.get_objects(max_depth=1))
    finally:
        pdf_page.close()
    version = document.get_version()
    warnings: list[str] = []
    scales = find_declared_scales(text)
    declared_scale = scales[0] if scales else None
    if not scales:
        warnings.append(
            _("No drawing scale found on the page: calibrate the scale (two points and a known distance) to measure.")
        )
    elif len(scales) > 1:
        warnings.append(
            _("Several scales are written on the page (%(scales)s); 1:%(used)d is used: check it or calibrate.")
            % {"scales": ", ".join(f"1:{n}" for n in scales), "used": declared_scale}
        )
    return Extraction(
        format="pdf",
        format_version=f"PDF {version // 10}.{version % 10}" if version else "PDF",
        units="pt",
        metres_per_unit=georef.metres_per_point(declared_scale) if declared_scale else None,
        extent=(0.0, 0.0, float(width), float(height)),
        warnings=warnings,
        entity_count=entity_count,
        page=page,
        page_count=page_count,
        page_size_mm=(round(width * MM_PER_POINT, 1), round(height * MM_PER_POINT, 1)),
        declared_scale=declared_scale,
    )


def find_declared_scales(text: str) -> list[int]:
    """The drawing scales ``n`` of "1:n" written in ``text``, those next to a keyword first, without repeats."""
    text = text.translate(_ARABIC_DIGITS)
    found: list[int] = []
    for pattern, usual_only in ((_KEYWORD_SCALE, False), (_BARE_SCALE, True)):
        for match in pattern.finditer(text):
            value = int(re.sub(r"\D", "", match.group(1)))
            if usual_only and value not in _USUAL_SCALES:
                continue
            if 1 <= value <= 1_000_000 and value not in found:
                found.append(value)
        if found:
            break
    return found


def render_page_png(path: Path, *, page: int, dpi: int | None = None) -> bytes:
    """Render a page as PNG bytes at ``dpi`` (default ``TAAMIR_PLAN_PDF_DPI``), white background."""
    dpi = dpi or settings.TAAMIR_PLAN_PDF_DPI
    with _open(path) as document:
        _check_page(page, len(document))
        return _png(_render(document, page=page, dpi=dpi))


def _png(bitmap) -> bytes:
    buffer = io.BytesIO()
    bitmap.to_pil().save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def page_to_cog(
    path: Path,
    *,
    page: int,
    transform: Sequence[float],
    srid: int,
    out_path: Path,
    dpi: int | None = None,
    transparent_white: bool = True,
    north_up: bool = False,
) -> RasterInfo:
    """Render a page and write it as a COG in ``srid``.

    ``transform`` is the page's drawing (points, origin bottom-left, y up) -> world transformation
    ``(a, b, c, d, e, f)`` (``PlanVersion.transform``); the COG's pixel -> world transformation is that
    one composed with pixel -> point. White becomes transparent when ``transparent_white`` (the plan is
    laid over the map); ``north_up`` resamples onto a north-up grid (see ``plans.raster.write_cog``).
    ``dpi`` defaults to ``TAAMIR_PLAN_COG_DPI`` and is lowered for very large pages so that the image
    stays under ``TAAMIR_PLAN_MAX_RENDER_PIXELS``.
    """
    dpi = dpi or settings.TAAMIR_PLAN_COG_DPI
    with _open(path) as document:
        _check_page(page, len(document))
        pdf_page = document[page - 1]
        try:
            width_pt, height_pt = pdf_page.get_size()
        finally:
            pdf_page.close()
        bitmap = _render(document, page=page, dpi=dpi, rgba=True)
        rgba = np.array(bitmap.to_numpy(), dtype=np.uint8, copy=True)  # owned, (rows, cols, 4) RGBA, opaque
        bitmap.close()
    if transparent_white:
        pixels = rgba.view(np.dtype("<u4"))[..., 0]  # one 32-bit word per pixel, alpha in the high byte
        pixels[pixels == 0xFFFFFFFF] = 0x00FFFFFF
    rows, cols = rgba.shape[:2]
    pixel_to_point = (width_pt / cols, 0.0, 0.0, 0.0, -height_pt / rows, height_pt)
    pixel_to_world = georef.compose(transform, pixel_to_point)
    return write_cog(rgba=rgba, pixel_to_world=pixel_to_world, srid=srid, out_path=out_path, north_up=north_up)


@contextmanager
def _open(path: Path) -> Iterator[pdfium.PdfDocument]:
    """Open a PDF after the refusal checks; yields the document and closes it."""
    data = Path(path).read_bytes()
    if b"%PDF-" not in data[:1024]:
        raise PlanRefused(_("The file is not a PDF."))
    structure = _structure_text(data)
    names = _decoded_names(structure)
    if b"Encrypt" in names:
        raise PlanRefused(_("The PDF is encrypted or password-protected: upload an unprotected copy."))
    if names & _ACTIVE_NAMES:
        raise PlanRefused(
            _("The PDF contains JavaScript or automatic actions, which are not accepted: print it to a new PDF.")
        )
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # pdfium's error code can be left over from an earlier call: the file's own structure decides.
        if _EMPTY_PAGE_TREE.search(structure) and not _PAGE_OBJECT.search(structure):
            raise PlanRefused(_("The PDF has no pages.")) from exc
        raise PlanRefused(_("The PDF is damaged and cannot be opened.")) from exc
    try:
        if pdfium_c.FPDF_GetSecurityHandlerRevision(document) != -1:
            raise PlanRefused(_("The PDF is encrypted or password-protected: upload an unprotected copy."))
        if pdfium_c.FPDFDoc_GetJavaScriptActionCount(document) > 0:
            raise PlanRefused(
                _("The PDF contains JavaScript or automatic actions, which are not accepted: print it to a new PDF.")
            )
        if len(document) == 0:
            raise PlanRefused(_("The PDF has no pages."))
        try:
            yield document
        except pdfium.PdfiumError as exc:  # a page that cannot be loaded or rendered
            raise PlanRefused(_("The PDF is damaged and cannot be opened.")) from exc
    finally:
        document.close()


def _check_page(page: int, page_count: int) -> None:
    if not 1 <= page <= page_count:
        raise PlanRefused(
            _("Page %(page)d does not exist: the PDF has %(count)d page(s).") % {"page": page, "count": page_count}
        )


def _render(document: pdfium.PdfDocument, *, page: int, dpi: int, rgba: bool = False) -> pdfium.PdfBitmap:
    """Render on opaque white; ``rgba`` forces 4-byte RGBA pixels (else pdfium picks, e.g. RGB)."""
    pdf_page = document[page - 1]
    try:
        width_pt, height_pt = pdf_page.get_size()
        max_pixels = settings.TAAMIR_PLAN_MAX_RENDER_PIXELS
        scale = dpi / 72
        if width_pt * height_pt * scale * scale > max_pixels:
            scale = math.sqrt(max_pixels / (width_pt * height_pt))
        options = {"force_bitmap_format": pdfium_c.FPDFBitmap_BGRA} if rgba else {}
        return pdf_page.render(
            scale=scale, fill_color=(255, 255, 255, 255), rev_byteorder=True, may_draw_forms=False, **options
        )
    finally:
        pdf_page.close()


def _page_text(pdf_page: pdfium.PdfPage) -> str:
    text_page = pdf_page.get_textpage()
    try:
        return text_page.get_text_bounded() or ""
    finally:
        text_page.close()


def _structure_text(data: bytes) -> bytes:
    """The file's objects without their stream bodies, plus the inflated content of its object streams.

    Stream bodies are skipped (page content and images may hold any bytes); object streams
    (``/Type /ObjStm``, where PDF 1.5+ files keep most dictionaries) are inflated so that a name hidden
    in one is seen too. The total inflated is capped (a zip bomb stops there).
    """
    parts: list[bytes] = []
    position = 0
    inflated_total = 0
    for match in _STREAM.finditer(data):
        if match.start() < position:
            continue
        end = _ENDSTREAM.search(data, match.end())
        if end is None:
            break
        head_start = max((m.end() for m in _OBJ.finditer(data, position, match.start())), default=position)
        parts.append(data[position : match.start()])
        if b"ObjStm" in _decoded_names(data[head_start : match.start()]):
            body = _inflate(data[match.end() : end.start()], budget=_MAX_INFLATED - inflated_total)
            inflated_total += len(body)
            parts.append(body)
        position = end.end()
    parts.append(data[position:])
    return b"\n".join(parts)


def _decoded_names(data: bytes) -> set[bytes]:
    return {re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), n) for n in _NAME.findall(data)}


def _inflate(body: bytes, *, budget: int) -> bytes:
    """Inflate a FlateDecode stream body as far as it goes (a damaged end still yields what came before)."""
    if budget <= 0:
        return b""
    try:
        return zlib.decompressobj().decompress(body.rstrip(b"\r\n"), budget)
    except zlib.error:
        return body
