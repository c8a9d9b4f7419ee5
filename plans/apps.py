"""Django app configuration for ``plans``."""

from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
