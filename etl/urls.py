"""Routes of layer exports (/exports/) and the open-data portal (/open-data/, CKAN API at /api/3/)."""

from django.urls import path  # noqa: F401

app_name = "etl"
urlpatterns: list = []
