"""HTML pages of the geo app: the public map.

The page carries no data of its own: the map script reads its settings and every UI string from two
``json_script`` blocks built here (``map-config`` and ``map-strings``), then loads authorised works and
parcels as vector tiles (``/tiles/``), the other layers from the geo API, and listens to the live events
(``/geo/events``) to redraw what changed. Strings are translated on the server, so the script holds no
text in any language.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language, get_language_bidi, pgettext
from django.utils.translation import gettext as _

from geo.models import AuthorisedWorkStatus, ConstraintKind
from geo.selectors_map import authorised_work_filters, map_initial_extent

# The geo API endpoints the map reads (names in geo/api/urls.py), by the key the script uses.
API_ROUTES = {
    "parcels": "geo-api:parcel-list",
    "adminAreas": "geo-api:admin-area-list",
    "zoning": "geo-api:zoning-list",
    "constraints": "geo-api:constraint-list",
}
# The vector-tile layers the map draws (names in tiles.vector.TILE_SPECS), by the key the script uses.
TILE_LAYERS = {"authorisedWorks": "authorised_works", "parcels": "parcels"}
# Parcels are drawn and clickable from this zoom level up (EPSG:3857 zoom, ~4.8 m/pixel).
PARCEL_MIN_ZOOM = 15
# Where the map opens when no commune is loaded yet: Casablanca.
DEFAULT_CENTER_LON_LAT = (-7.5898, 33.5731)
DEFAULT_ZOOM = 12
# Number formats: Morocco writes Western digits in Arabic as well as in French.
NUMBER_LOCALES = {"fr": "fr-MA", "ar": "ar-MA", "en": "en-GB"}


def _use_labels() -> dict[str, str]:
    """Labels of the usual allowed-use codes of zone regulations; unknown codes are shown as they are."""
    return {
        "housing": pgettext("land use", "Housing"),
        "retail": pgettext("land use", "Retail"),
        "office": pgettext("land use", "Offices"),
        "offices": pgettext("land use", "Offices"),
        "services": pgettext("land use", "Services"),
        "industry": pgettext("land use", "Industry"),
        "crafts": pgettext("land use", "Crafts"),
        "tourism": pgettext("land use", "Tourism"),
        "hotel": pgettext("land use", "Hotels"),
        "public_facility": pgettext("land use", "Public facilities"),
        "facilities": pgettext("land use", "Public facilities"),
        "amenity": pgettext("land use", "Public facilities"),
        "education": pgettext("land use", "Education"),
        "health": pgettext("land use", "Health"),
        "religious": pgettext("land use", "Places of worship"),
        "green_space": pgettext("land use", "Green space"),
        "leisure": pgettext("land use", "Leisure"),
        "agriculture": pgettext("land use", "Agriculture"),
        "logistics": pgettext("land use", "Logistics"),
        "parking": pgettext("land use", "Parking"),
    }


def map_strings() -> dict[str, Any]:
    """Every string the map script shows, in the active language (``%(name)s`` are placeholders)."""
    return {
        "loading": _("Loading…"),
        "loadError": _("The map data could not be loaded. Please try again later."),
        "zoomIn": _("Zoom in"),
        "zoomOut": _("Zoom out"),
        "searchTooShort": _("Type at least 2 characters of the reference."),
        "suggestionsHelp": _("Suggestions are listed below the search box: use the up and down arrow keys to choose."),
        "noSuggestion": _("No reference starts with “%(prefix)s”."),
        "notFound": _("No parcel has the reference “%(reference)s”."),
        "selected": _("Parcel %(reference)s selected."),
        "noParcelHere": _("No parcel at this place."),
        "reference": _("Land-title reference"),
        "area": _("Area"),
        "areaValue": _("%(value)s m²"),
        "metresValue": _("%(value)s m"),
        "commune": _("Commune"),
        "zoning": _("Zoning"),
        "plan": _("Zoning plan"),
        "share": _("Share of the parcel"),
        "maxHeight": _("Maximum height"),
        "maxFloors": _("Maximum floors"),
        "coverageRatio": _("Coverage ratio (CES)"),
        "floorAreaRatio": _("Floor-area ratio (COS)"),
        "minSetback": _("Minimum setback"),
        "allowedUses": _("Allowed uses"),
        "constraints": _("Constraints"),
        "noZoning": _("No zoning rule applies to this parcel."),
        "noConstraint": _("No known constraint."),
        "notSet": _("Not set"),
        "uses": _use_labels(),
        "constraintKinds": {kind.value: str(kind.label) for kind in ConstraintKind},
        "workStatuses": {status.value: str(status.label) for status in AuthorisedWorkStatus},
        "permit": _("Permit %(reference)s"),
        "permitReference": _("Permit reference"),
        "procedure": _("Procedure"),
        "decisionDate": _("Decision date"),
        "status": _("Status"),
        "floors": _("Floors"),
        "use": _("Use"),
        "builtArea": _("Built area"),
        "dwellings": _("Dwellings"),
        "verify": _("Check this permit’s authenticity"),
        "zoomForDetails": _("Zoom in for the full summary of this permit."),
        "workSelected": _("Permit %(reference)s selected."),
        "closeWork": _("Close the permit summary"),
        "decidedUpTo": _("Decided on or before %(date)s"),
        "anyDate": _("Any date"),
        "liveUpdated": _("The map was updated: %(count)s change(s) just published."),
        "worksInView": _("%(count)s permit(s) in view."),
    }


def map_config() -> dict[str, Any]:
    """Settings of the map script: API addresses, language, and where to open."""
    language = get_language() or "fr"
    extent = map_initial_extent()
    return {
        "api": {name: reverse(route) for name, route in API_ROUTES.items()},
        "language": language,
        "numberLocale": NUMBER_LOCALES.get(language, language),
        "rtl": get_language_bidi(),
        "extent": list(extent) if extent else None,
        "defaultCenter": list(DEFAULT_CENTER_LON_LAT),
        "defaultZoom": DEFAULT_ZOOM,
        "parcelMinZoom": PARCEL_MIN_ZOOM,
        "tiles": {
            key: reverse("tiles:tile", args=[layer, 0, 0, 0]).replace("/0/0/0.pbf", "/{z}/{x}/{y}.pbf")
            for key, layer in TILE_LAYERS.items()
        },
        "tilesMaxZoom": settings.TAAMIR_TILES_MAX_ZOOM,
        "events": reverse("tiles:events"),
        "verifyUrl": reverse("verify", args=["CODE"]).replace("CODE", "{code}"),
        "works": authorised_work_filters(language=language),
    }


def _open_data_url() -> str | None:
    try:
        return reverse("etl:open_data")
    except NoReverseMatch:
        return None


def public_map(request: HttpRequest) -> HttpResponse:
    """The public map: authorised works (live), parcels, zoning, constraints and administrative areas."""
    context = {
        "map_config": map_config(),
        "map_strings": map_strings(),
        "parcel_min_zoom": PARCEL_MIN_ZOOM,
        "open_data_url": _open_data_url(),
    }
    return render(request, "geo/map.html", context)
