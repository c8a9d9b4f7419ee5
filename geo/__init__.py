"""Geography of the platform: administrative areas, parcels, zoning plans and constraint areas.

Everything is stored in EPSG:4326 with spatial indexes and measured in a projected CRS
(the commune's, Merchich / Nord Maroc by default) — never in degrees. See ``geo.crs``.
"""
