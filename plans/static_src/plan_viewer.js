// The plan viewer: a plan version over parcels and zoning; measure, annotate, compare versions.
