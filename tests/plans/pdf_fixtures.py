"""PDF files built byte by byte for the PDF reader's tests: good plans and every kind of refused file.

:func:`build_pdf` writes a PDF from a list of object bodies, either with a classic cross-reference table
or (``object_stream=True``) PDF 1.5 style, with the dictionaries packed into a compressed object stream
and a cross-reference stream -- the layout in which JavaScript hides from a naive byte scan.
:func:`weasyprint_plan` draws a sheet with WeasyPrint (embedded fonts: Arabic text, accents).
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

MM = 72 / 25.4


def build_pdf(
    objects: list[bytes],
    *,
    object_stream: bool = False,
    trailer: bytes = b"",
    version: str = "1.7",
) -> bytes:
    """A PDF whose object ``i + 1`` is ``objects[i]`` (object 1 must be the catalogue).

    With ``object_stream``, every object that is not a stream goes into one FlateDecode object stream and
    the cross-reference is a stream too. ``trailer`` is added to the trailer dictionary (e.g. an
    ``/Encrypt`` reference).
    """
    out = bytearray(f"%PDF-{version}\n%\xe2\xe3\xcf\xd3\n".encode("latin-1"))
    count = len(objects)
    if not object_stream:
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (count + 1)
        for offset in offsets:
            out += b"%010d 00000 n \n" % offset
        out += b"trailer\n<< /Size %d /Root 1 0 R " % (count + 1) + trailer + b" >>\n"
        out += b"startxref\n%d\n%%%%EOF\n" % xref
        return bytes(out)

    packed = [n for n, body in enumerate(objects, start=1) if b"stream" not in body]
    direct = [n for n in range(1, count + 1) if n not in packed]
    stream_number = count + 1
    xref_number = count + 2
    header, content = [], bytearray()
    for number in packed:
        header.append(b"%d %d" % (number, len(content)))
        content += objects[number - 1] + b"\n"
    head = b" ".join(header) + b"\n"
    data = zlib.compress(head + bytes(content))
    entries: dict[int, tuple[int, int, int]] = {0: (0, 0, 0xFFFF)}
    for index, number in enumerate(packed):
        entries[number] = (2, stream_number, index)
    for number in direct:
        entries[number] = (1, len(out), 0)
        out += b"%d 0 obj\n" % number + objects[number - 1] + b"\nendobj\n"
    entries[stream_number] = (1, len(out), 0)
    out += b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (
        stream_number,
        len(packed),
        len(head),
        len(data),
    )
    out += data + b"\nendstream\nendobj\n"
    entries[xref_number] = (1, len(out), 0)
    rows = b"".join(
        bytes([kind]) + field.to_bytes(4, "big") + generation.to_bytes(2, "big")
        for kind, field, generation in (entries[n] for n in range(xref_number + 1))
    )
    xref_data = zlib.compress(rows)
    xref_offset = len(out)
    out += (
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d "
        % (xref_number, xref_number + 1, len(xref_data))
        + trailer
        + b" >>\nstream\n"
    )
    out += xref_data + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


def stream(content: bytes, extra: bytes = b"") -> bytes:
    """An object body holding an uncompressed stream."""
    return b"<< /Length %d %s >>\nstream\n" % (len(content), extra) + content + b"\nendstream"


def plan_objects(
    *,
    text: str = "",
    width_mm: float = 420.0,
    height_mm: float = 297.0,
    rotate: int = 0,
    catalogue_extra: bytes = b"",
    page_extra: bytes = b"",
    pages: int = 1,
) -> list[bytes]:
    """The objects of a plan sheet: a 100 x 50 mm rectangle at (20, 20) mm and ``text`` (WinAnsi, Helvetica).

    The same sheet is repeated ``pages`` times (0 gives an empty page tree).
    """
    rectangle = b"0 0 0 RG 1 w %.3f %.3f %.3f %.3f re S\n" % (20 * MM, 20 * MM, 100 * MM, 50 * MM)
    lines = [line for line in text.split("\n") if line]
    words = b"".join(
        b"BT /F1 12 Tf %.3f %.3f Td (%s) Tj ET\n"
        % (20 * MM, (height_mm - 20) * MM - 16 * i, line.encode("cp1252").replace(b"(", b"\\(").replace(b")", b"\\)"))
        for i, line in enumerate(lines)
    )
    content = stream(rectangle + words)
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    first_page = 5
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalogue_extra + b" >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        content,
        font,
    ]
    for _ in range(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.3f %.3f] /Rotate %d /Contents 3 0 R "
            b"/Resources << /Font << /F1 4 0 R >> >> %s >>" % (width_mm * MM, height_mm * MM, rotate, page_extra)
        )
    return objects


def write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` and return the path."""
    path.write_bytes(data)
    return path


def plan_pdf(path: Path, *, text: str = "", object_stream: bool = False, **options) -> Path:
    """A good plan sheet (see :func:`plan_objects` for the options)."""
    return write(path, build_pdf(plan_objects(text=text, **options), object_stream=object_stream))


def javascript_open_action_pdf(path: Path, *, object_stream: bool = False, escaped: bool = False) -> Path:
    """A sheet whose catalogue runs JavaScript when opened (/OpenAction); ``escaped`` writes /JS as /J#53."""
    objects = plan_objects(text="Echelle 1/100", catalogue_extra=b"/OpenAction 6 0 R")
    js_name = b"/J#53" if escaped else b"/JS"
    objects.append(b"<< /Type /Action /S /JavaScript " + js_name + b" (app.alert\\('hello'\\);) >>")
    return write(path, build_pdf(objects, object_stream=object_stream))


def document_javascript_pdf(path: Path) -> Path:
    """A sheet with document-level JavaScript in the /Names tree."""
    objects = plan_objects(text="Echelle 1/100", catalogue_extra=b"/Names << /JavaScript 6 0 R >>")
    objects.append(b"<< /Names [(init) 7 0 R] >>")
    objects.append(b"<< /S /JavaScript /JS (this.print\\(\\);) >>")
    return write(path, build_pdf(objects, object_stream=True))


def page_additional_action_pdf(path: Path) -> Path:
    """A sheet whose page carries an additional action (/AA) run when the page opens."""
    objects = plan_objects(text="Echelle 1/100", page_extra=b"/AA << /O 6 0 R >>")
    objects.append(b"<< /S /Launch /F (calc.exe) >>")
    return write(path, build_pdf(objects, object_stream=True))


def encrypted_pdf(path: Path, *, user_password: str = "secret") -> Path:
    """A sheet encrypted with pyHanko's writer (AES-256); an empty ``user_password`` opens without one."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    source = PdfFileReader(io.BytesIO(build_pdf(plan_objects(text="Echelle 1/100"))))
    writer = copy_into_new_writer(source)
    writer.encrypt(b"owner-secret", user_password.encode())
    buffer = io.BytesIO()
    writer.write(buffer)
    return write(path, buffer.getvalue())


def weasyprint_plan(path: Path, *, caption: str, width_mm: int = 297, height_mm: int = 210, direction="ltr") -> Path:
    """A sheet drawn by WeasyPrint with ``caption`` (any script; fonts embedded) and a 100 x 50 mm rectangle."""
    from weasyprint import HTML

    html = f"""<html dir="{direction}"><head><style>
        @page {{ size: {width_mm}mm {height_mm}mm; margin: 10mm; }}
        body {{ font-family: 'DejaVu Sans', 'Noto Sans Arabic', sans-serif; font-size: 12pt; }}
        .box {{ width: 100mm; height: 50mm; border: 0.3mm solid black; margin-top: 10mm; }}
    </style></head><body><p>{caption}</p><div class="box"></div></body></html>"""
    HTML(string=html).write_pdf(path)
    return path
