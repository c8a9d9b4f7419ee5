"""Routes of the geo-portal services: vector tiles with their TileJSON, and the live events."""

from django.urls import path

from tiles import views

app_name = "tiles"
urlpatterns = [
    path("tiles/<str:layer>.json", views.tilejson_document, name="tilejson"),
    path("tiles/<str:layer>/<int:z>/<int:x>/<int:y>.pbf", views.vector_tile, name="tile"),
    path("geo/events", views.geo_events, name="events"),
]
