"""Routes of the geo-portal services: vector tiles, live events, MapProxy."""

from django.urls import path  # noqa: F401

app_name = "tiles"
urlpatterns: list = []
