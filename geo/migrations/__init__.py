"""Database migrations of the geo app."""
