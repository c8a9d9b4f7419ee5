"""Route of the raster tiles: everything under /mapproxy/ goes to MapProxy after the access check."""

from django.urls import path, re_path

from tiles import mapproxy_views

app_name = "mapproxy"
urlpatterns = [
    path("mapproxy/", mapproxy_views.mapproxy_view, name="root"),
    re_path(r"^mapproxy/(?P<path>.*)$", mapproxy_views.mapproxy_view, name="mapproxy"),
]
