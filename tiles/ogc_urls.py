"""Routes of the OGC services: WFS 2.0 at /wfs and OGC API - Features at /ogcapi/."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
