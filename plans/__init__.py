"""Plans as GIS: versioned DXF/PDF plan sets, georeferencing, footprints, zoning pre-checks.

The models arrive with the plans issue; the app is registered now so the layout matches the design card.
"""
