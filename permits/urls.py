"""Pages of the permits app: the applicant's portal and the desk's workspace."""

from django.urls import path  # noqa: F401

app_name = "permits"
urlpatterns: list = []
