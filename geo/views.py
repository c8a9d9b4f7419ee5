"""HTML pages of the geo app."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def public_map(request: HttpRequest) -> HttpResponse:
    """The public map: administrative areas, parcels and zoning, with a parcel search."""
    return render(request, "geo/map.html")
