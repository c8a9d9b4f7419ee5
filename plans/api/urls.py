"""Routes of the plans API."""

from django.urls import path  # noqa: F401

app_name = "plans-api"
urlpatterns: list = []
