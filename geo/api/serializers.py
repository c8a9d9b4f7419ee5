"""Input and output serializers of the geo API (GeoJSON features through djangorestframework-gis)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from geo import crs
from geo.models import AdminArea, AdminLevel, ConstraintArea, ConstraintKind, Parcel, ZoningZone
from geo.selectors import BBox


def parse_bbox(value: str) -> BBox:
    """Parse ``min_lon,min_lat,max_lon,max_lat`` and check it is a real box in degrees."""
    parts = value.split(",")
    if len(parts) != 4:
        raise serializers.ValidationError(_("bbox needs four numbers: min_lon,min_lat,max_lon,max_lat."))
    try:
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
    except ValueError as exc:
        raise serializers.ValidationError(_("bbox needs four numbers: min_lon,min_lat,max_lon,max_lat.")) from exc
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise serializers.ValidationError(_("bbox must be min_lon < max_lon and min_lat < max_lat, in degrees."))
    return BBox(min_lon, min_lat, max_lon, max_lat)


class BBoxField(serializers.CharField):
    def to_internal_value(self, data: Any) -> BBox:
        return parse_bbox(super().to_internal_value(data))


class ParcelQueryInput(serializers.Serializer):
    """Exactly one way to find parcels: a reference, a reference prefix, a point or a box."""

    reference = serializers.CharField(
        required=False, max_length=80, help_text=_("Exact reference; case/spaces ignored.")
    )
    reference_prefix = serializers.CharField(required=False, max_length=80, min_length=1)
    lon = serializers.FloatField(required=False, min_value=-180, max_value=180)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    x = serializers.FloatField(required=False)
    y = serializers.FloatField(required=False)
    srid = serializers.IntegerField(required=False, help_text=_("EPSG code of x/y, e.g. 26191."))
    bbox = BBoxField(required=False, help_text=_("min_lon,min_lat,max_lon,max_lat"))
    limit = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs: dict) -> dict:
        given = [
            name
            for name, present in (
                ("reference", "reference" in attrs),
                ("reference_prefix", "reference_prefix" in attrs),
                ("lon/lat", "lon" in attrs or "lat" in attrs),
                ("x/y", "x" in attrs or "y" in attrs),
                ("bbox", "bbox" in attrs),
            )
            if present
        ]
        if len(given) != 1:
            raise serializers.ValidationError(
                _("Give exactly one of: reference, reference_prefix, lon and lat, x and y with srid, or bbox.")
            )
        if given[0] == "lon/lat" and not ("lon" in attrs and "lat" in attrs):
            raise serializers.ValidationError(_("lon and lat go together."))
        if given[0] == "x/y":
            if not ("x" in attrs and "y" in attrs and "srid" in attrs):
                raise serializers.ValidationError(_("x and y need srid (for example 26191)."))
            try:
                crs.srid_of(attrs["srid"])
            except crs.UnknownCRS as exc:
                raise serializers.ValidationError({"srid": str(exc)}) from exc
        attrs["mode"] = given[0]
        return attrs


class LayerQueryInput(serializers.Serializer):
    bbox = BBoxField(required=False, help_text=_("min_lon,min_lat,max_lon,max_lat"))
    limit = serializers.IntegerField(required=False, min_value=1)


class AdminAreaQueryInput(LayerQueryInput):
    level = serializers.ChoiceField(required=False, choices=AdminLevel.choices)


class ZoningQueryInput(LayerQueryInput):
    plan = serializers.CharField(required=False, max_length=60)


class ConstraintQueryInput(LayerQueryInput):
    kind = serializers.ChoiceField(required=False, choices=ConstraintKind.choices)


class CommuneSummary(serializers.Serializer):
    code = serializers.CharField()
    name_fr = serializers.CharField()
    name_ar = serializers.CharField()


class ZoneRulesOutput(serializers.Serializer):
    plan = serializers.CharField()
    plan_name = serializers.CharField()
    zone_code = serializers.CharField()
    label = serializers.CharField()
    max_height_m = serializers.FloatField(allow_null=True)
    max_floors = serializers.IntegerField(allow_null=True)
    coverage_ratio = serializers.FloatField(allow_null=True)
    floor_area_ratio = serializers.FloatField(allow_null=True)
    min_setback_m = serializers.FloatField(allow_null=True)
    allowed_uses = serializers.ListField(child=serializers.CharField())
    share = serializers.FloatField(help_text=_("Share of the parcel inside this zone (0–1)."))


class ConstraintSummary(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.SerializerMethodField()
    name = serializers.CharField()

    def get_kind_label(self, obj: dict) -> str:
        return str(ConstraintKind(obj["kind"]).label) if obj["kind"] in ConstraintKind.values else obj["kind"]


class ParcelFeatureOutput(GeoFeatureModelSerializer):
    """A parcel with its commune, the zoning rules that apply and the constraints it touches."""

    commune = CommuneSummary(allow_null=True)
    zoning = ZoneRulesOutput(many=True)
    constraints = ConstraintSummary(many=True)

    class Meta:
        model = Parcel
        geo_field = "geom"
        fields = ["id", "reference", "area_m2", "area_srid", "commune", "zoning", "constraints"]

    def to_representation(self, instance: Parcel) -> dict:
        data = super().to_representation(instance)
        data["properties"]["area_m2"] = round(instance.area_m2, 2)
        for zone in data["properties"]["zoning"]:
            zone["share"] = round(zone["share"], 4)
        return data


class ParcelLightFeatureOutput(GeoFeatureModelSerializer):
    """A parcel as a map feature: reference and area only."""

    class Meta:
        model = Parcel
        geo_field = "geom"
        fields = ["id", "reference", "area_m2"]


class AdminAreaFeatureOutput(GeoFeatureModelSerializer):
    parent_code = serializers.CharField(source="parent.code", allow_null=True, default=None)

    class Meta:
        model = AdminArea
        geo_field = "geom"
        fields = ["id", "code", "level", "name_fr", "name_ar", "parent_code", "projected_srid"]


class ZoningZoneFeatureOutput(GeoFeatureModelSerializer):
    plan = serializers.CharField(source="plan.code")
    zone_code = serializers.CharField(source="regulation.zone_code")
    label = serializers.CharField(source="regulation.label")
    max_height_m = serializers.FloatField(source="regulation.max_height_m", allow_null=True)
    max_floors = serializers.IntegerField(source="regulation.max_floors", allow_null=True)
    coverage_ratio = serializers.FloatField(source="regulation.coverage_ratio", allow_null=True)
    floor_area_ratio = serializers.FloatField(source="regulation.floor_area_ratio", allow_null=True)
    min_setback_m = serializers.FloatField(source="regulation.min_setback_m", allow_null=True)
    allowed_uses = serializers.ListField(source="regulation.allowed_uses", child=serializers.CharField())

    class Meta:
        model = ZoningZone
        geo_field = "geom"
        fields = [
            "id",
            "plan",
            "source_key",
            "zone_code",
            "label",
            "max_height_m",
            "max_floors",
            "coverage_ratio",
            "floor_area_ratio",
            "min_setback_m",
            "allowed_uses",
        ]


class ConstraintAreaFeatureOutput(GeoFeatureModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = ConstraintArea
        geo_field = "geom"
        fields = ["id", "kind", "kind_label", "name", "source_key"]


def max_features() -> int:
    return settings.TAAMIR_API_MAX_FEATURES
