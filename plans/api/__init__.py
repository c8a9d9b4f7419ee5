"""REST API of the plans app."""
