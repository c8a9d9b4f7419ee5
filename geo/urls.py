"""Pages of the geo app: the public map."""

from django.urls import path

from geo import views

app_name = "geo"
urlpatterns = [
    path("", views.public_map, name="map"),
]
