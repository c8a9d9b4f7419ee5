"""Part of the permits app."""
