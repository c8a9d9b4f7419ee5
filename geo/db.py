"""PostGIS functions the ORM does not offer, as typed query expressions (one home for them)."""

from __future__ import annotations

from django.db.models import FloatField, Func


class PlanarArea(Func):
    """``ST_Area`` on the stored geometry: only for ratios between geometries of the same CRS, never as m²."""

    function = "ST_Area"
    output_field = FloatField()


class OverlapShare(Func):
    """Share of the second geometry covered by the first: ``area(a ∩ b) / area(b)``, dimensionless."""

    template = "ST_Area(ST_Intersection(%(expressions)s)) / NULLIF(ST_Area(%(second)s), 0)"
    output_field = FloatField()

    def __init__(self, first, second, **extra) -> None:
        super().__init__(first, second, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        second_sql, second_params = compiler.compile(self.source_expressions[1])
        sql, params = super().as_sql(compiler, connection, second=second_sql, **extra_context)
        return sql, (*params, *second_params)


class AreaInSrid(Func):
    """Area in m² of a geometry measured in a projected CRS: ``ST_Area(ST_Transform(geom, srid))``."""

    template = "ST_Area(ST_Transform(%(expressions)s, %(srid)s))"
    output_field = FloatField()

    def __init__(self, expression, *, srid: int, **extra) -> None:
        super().__init__(expression, srid=int(srid), **extra)
