"""Tiles for the geo-portal: vector tiles from PostGIS, MapProxy raster tiles, cache invalidation.

The endpoints arrive with the geo-portal issue; the app is registered now so the layout matches the design card.
"""
