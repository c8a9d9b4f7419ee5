"""Layer import and export (pyogrio/GDAL), demo and scale generators, later the open-data outputs."""
