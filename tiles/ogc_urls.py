"""Routes of the OGC services: WFS 2.0 at /wfs and OGC API - Features at /ogcapi/."""

from django.urls import path, re_path

from tiles import ogcapi
from tiles.wfs import GeoPortalWFSView

urlpatterns = [
    path("wfs", GeoPortalWFSView.as_view(), name="wfs"),
    # With or without the slash: QGIS asks for /ogcapi and does not follow redirects there.
    re_path(r"^ogcapi/?$", ogcapi.landing, name="ogcapi-landing"),
    path("ogcapi/api", ogcapi.api_definition, name="ogcapi-api"),
    path("ogcapi/conformance", ogcapi.conformance, name="ogcapi-conformance"),
    path("ogcapi/collections", ogcapi.collections, name="ogcapi-collections"),
    path("ogcapi/collections/<str:collection_id>", ogcapi.collection, name="ogcapi-collection"),
    path("ogcapi/collections/<str:collection_id>/queryables", ogcapi.queryables, name="ogcapi-queryables"),
    path("ogcapi/collections/<str:collection_id>/items", ogcapi.items, name="ogcapi-items"),
    path("ogcapi/collections/<str:collection_id>/items/<str:feature_id>", ogcapi.item, name="ogcapi-item"),
]
