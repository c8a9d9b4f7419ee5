"""Tests of the geo-portal services: WFS, OGC API – Features, vector tiles, clients."""
