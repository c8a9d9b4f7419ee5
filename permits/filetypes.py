"""Recognise an uploaded file's real format from its first bytes, never from its name.

Only what the checklists accept is recognised (PDF, DXF, DWG, PNG, JPEG, TIFF, ZIP); HTML, scripts and
executables are named as such so the refusal says what the file really is.
"""

from __future__ import annotations

# (format, magic prefix) — checked in order on the first bytes of the file.
_SIGNATURES: tuple[tuple[str, bytes], ...] = (
    ("pdf", b"%PDF-"),
    ("png", b"\x89PNG\r\n\x1a\n"),
    ("jpeg", b"\xff\xd8\xff"),
    ("tiff", b"II*\x00"),
    ("tiff", b"MM\x00*"),
    ("dxf", b"AutoCAD Binary DXF"),
    ("dwg", b"AC10"),
    ("zip", b"PK\x03\x04"),
    ("executable", b"MZ"),
    ("executable", b"\x7fELF"),
    ("executable", b"\xca\xfe\xba\xbe"),
    ("executable", b"#!"),
)
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
    "dxf": "image/vnd.dxf",
    "dwg": "image/vnd.dwg",
    "zip": "application/zip",
}


def detect_format(head: bytes) -> str:
    """The format of a file from its first bytes (read at least 512): a code of ``CONTENT_TYPES``,
    ``executable``, ``html``, ``empty`` or ``unknown``."""
    if not head:
        return "empty"
    for name, magic in _SIGNATURES:
        if head.startswith(magic):
            return name
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<?xml")):
        return "html"
    # ASCII DXF: group code 0 then SECTION (optionally after a 999 comment).
    lines = [line.strip() for line in text.splitlines()[:6]]
    if lines[:2] == [b"0", b"section"] or (lines[:1] == [b"999"] and b"section" in lines):
        return "dxf"
    return "unknown"
