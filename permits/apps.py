"""Django app configuration for ``permits``."""

from django.apps import AppConfig


class PermitsConfig(AppConfig):
    name = "permits"
