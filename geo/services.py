"""Writes of the geo app that other apps call: the authorised-works layer of the geo-portal."""

from __future__ import annotations

from datetime import date

from django.contrib.gis.geos import MultiPolygon

from geo.models import AdminArea, AuthorisedWork


def authorised_work_record(
    *,
    reference: str,
    procedure_code: str,
    procedure_name: str,
    commune: AdminArea,
    decision_date: date,
    status: str,
    geom: MultiPolygon,
    floors: int | None = None,
    use: str = "",
    built_area_m2: float | None = None,
    dwellings: int | None = None,
    verification_code: str = "",
) -> AuthorisedWork:
    """Create or update the public feature of a permit (keyed by its reference)."""
    work, _ = AuthorisedWork.objects.update_or_create(
        reference=reference,
        defaults={
            "procedure_code": procedure_code,
            "procedure_name": procedure_name,
            "commune": commune,
            "decision_date": decision_date,
            "status": status,
            "geom": geom,
            "floors": floors,
            "use": use,
            "built_area_m2": built_area_m2,
            "dwellings": dwellings,
            "verification_code": verification_code,
        },
    )
    return work


def authorised_work_set_status(*, reference: str, status: str) -> int:
    """Change the status of a permit's feature (lapsed, withdrawn); returns the rows changed."""
    return AuthorisedWork.objects.filter(reference=reference).exclude(status=status).update(status=status)
