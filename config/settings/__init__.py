"""Settings split by environment; ``DJANGO_SETTINGS_MODULE`` picks one (``config.settings.local`` by default)."""
