"""Template tags of the permits app (``{% load permits_ui %}``)."""
