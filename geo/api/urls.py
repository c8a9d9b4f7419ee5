"""Routes of the geo API."""

from django.urls import path

from geo.api import views

app_name = "geo-api"
urlpatterns = [
    path("parcels/", views.ParcelListApi.as_view(), name="parcel-list"),
    path("parcels/<int:parcel_id>/", views.ParcelDetailApi.as_view(), name="parcel-detail"),
    path("admin-areas/", views.AdminAreaListApi.as_view(), name="admin-area-list"),
    path("zoning/", views.ZoningListApi.as_view(), name="zoning-list"),
    path("constraints/", views.ConstraintListApi.as_view(), name="constraint-list"),
]
