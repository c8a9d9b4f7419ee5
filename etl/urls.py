"""Routes of layer exports (/exports/) and the open-data portal (/open-data/, CKAN API at /api/3/)."""

from django.urls import path

from etl import export_views
from etl.opendata import views as open_data

app_name = "etl"
urlpatterns: list = [
    path("exports/", export_views.exports_page, name="exports"),
    path("api/exports/<str:layer>.<str:ext>", export_views.ExportDownloadApi.as_view(), name="export-download"),
    path("open-data/", open_data.open_data_page, name="open_data"),
    path("open-data/catalog.jsonld", open_data.catalog_view, name="open_data_catalog"),
    path("open-data/datasets/<slug:name>.<slug:fmt>", open_data.dataset_download, name="open_data_download"),
    path("api/3/action/<str:action>", open_data.ckan_action, name="ckan_action"),
    path("api/action/<str:action>", open_data.ckan_action, name="ckan_action_unversioned"),  # ckanapi's address
]
