"""Taamir's test suite: real PostGIS, real files, real clients."""
