"""The REST API of the geo app: parcels, administrative areas, zoning and constraints as GeoJSON."""
