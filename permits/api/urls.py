"""Routes of the permits API."""

from django.urls import path  # noqa: F401

app_name = "permits-api"
urlpatterns: list = []
