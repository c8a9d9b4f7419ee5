"""Pages of the plans app: a dossier's plan sets, the plan viewer, annotations and pre-checks."""

from django.urls import path  # noqa: F401

app_name = "plans"
urlpatterns: list = []
