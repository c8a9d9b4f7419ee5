"""URL routing: the public map, the permits portal, accounts, the API with its schema and docs, the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from permits.views.verify import verify_document

urlpatterns = [
    path("", include("geo.urls")),
    path("", include("permits.urls")),
    path("", include("plans.urls")),
    path("", include("tiles.urls")),
    path("", include("tiles.ogc_urls")),
    path("", include("tiles.mapproxy_urls")),
    path("", include("etl.urls")),
    # Public verification of an issued document: the address printed on the PDF and in its QR code.
    path("verify/<str:code>/", verify_document, name="verify"),
    path("api/", include("geo.api.urls")),
    path("api/", include("permits.api.urls")),
    path("api/", include("plans.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
