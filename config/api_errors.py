"""One place where errors become HTTP answers: every API error is an RFC 9457 problem document.

Services raise :class:`DomainError` subclasses; DRF's own errors (validation, 404, 403) are
rewritten here too, so clients always get ``application/problem+json`` with ``type``, ``title``,
``status`` and ``detail``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    """A refusal the user can understand; ``code`` is stable, ``message`` is translated."""

    http_status = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(DomainError):
    http_status = status.HTTP_404_NOT_FOUND
    code = "not-found"


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    """``{"bbox": ["needs four numbers"]}`` → ``["bbox: needs four numbers"]`` (non-field errors unprefixed)."""
    if isinstance(detail, dict):
        lines: list[str] = []
        for key, value in detail.items():
            label = "" if key in {"non_field_errors", "detail"} else f"{prefix}{key}: "
            lines.extend(_flatten(value, label))
        return lines
    if isinstance(detail, list):
        return [line for item in detail for line in _flatten(item, prefix)]
    return [f"{prefix}{detail}"]


def problem_response(*, status_code: int, code: str, title: str, detail: Any) -> Response:
    """Build a problem+json answer; ``detail`` is always one readable line, ``errors`` keeps the structure."""
    body: dict[str, Any] = {"type": f"urn:taamir:problem:{code}", "title": title, "status": status_code}
    if isinstance(detail, dict | list):
        body["detail"] = " ".join(_flatten(detail))
        body["errors"] = detail
    else:
        body["detail"] = str(detail)
    return Response(body, status=status_code, content_type="application/problem+json")


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF exception handler that answers every error as a problem document."""
    if isinstance(exc, DomainError):
        return problem_response(status_code=exc.http_status, code=exc.code, title=exc.message, detail=exc.message)
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data.get("detail", response.data) if isinstance(response.data, dict) else response.data
    code = str(getattr(exc, "default_code", "error")).replace("_", "-")
    title = str(getattr(exc, "default_detail", "Invalid request"))
    problem = problem_response(status_code=response.status_code, code=code, title=title, detail=detail)
    # Keep the headers DRF set for the client: the 401 challenge and the throttling delay.
    for header in ("WWW-Authenticate", "Retry-After"):
        if header in response:
            problem[header] = response[header]
    return problem
