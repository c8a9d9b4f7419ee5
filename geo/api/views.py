"""API views of the geo app: one view per operation, input validated by a serializer, reads via selectors."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from config.api_errors import NotFound
from geo import selectors
from geo.api import serializers as s

FEATURE_COLLECTION_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": {"type": "object"}},
        "numberReturned": {"type": "integer"},
        "numberMatched": {"type": "integer"},
    },
}


def feature_collection(
    *, queryset: QuerySet, output: type[Serializer], limit: int | None, default_limit: int, context: dict
) -> Response:
    """A GeoJSON FeatureCollection with ``numberReturned`` and ``numberMatched`` (OGC API naming)."""
    limit = min(limit or default_limit, s.max_features())
    rows = list(queryset[: limit + 1])
    truncated = len(rows) > limit
    rows = rows[:limit]
    matched = queryset.count() if truncated else len(rows)
    data = output(rows, many=True, context=context).data
    return Response(
        {
            "type": "FeatureCollection",
            "features": data["features"],
            "numberReturned": len(rows),
            "numberMatched": matched,
        }
    )


class ParcelListApi(APIView):
    """Find parcels by exact reference, reference prefix, point (lon/lat or x/y in any EPSG) or bbox."""

    @extend_schema(
        operation_id="parcel_list",
        parameters=[s.ParcelQueryInput],
        responses={200: FEATURE_COLLECTION_SCHEMA},
        description=(
            "Exactly one of: `reference` (exact, case and spaces ignored), `reference_prefix`, `lon`+`lat`, "
            "`x`+`y`+`srid` (e.g. 26191) or `bbox`. Reference and point lookups return each parcel with its "
            "commune, the zoning rules that apply (each with the share of the parcel it covers) and the "
            "constraints it touches; `bbox` returns light features (reference and area) for maps."
        ),
    )
    def get(self, request: Request) -> Response:
        query = s.ParcelQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        mode = params["mode"]
        output: type[Serializer] = s.ParcelFeatureOutput
        default_limit = 20
        if mode == "reference":
            queryset = selectors.parcel_list_by_reference(reference=params["reference"])
        elif mode == "reference_prefix":
            queryset = selectors.parcel_list_by_reference_prefix(prefix=params["reference_prefix"])
        elif mode == "lon/lat":
            queryset = selectors.parcel_list_at_point(x=params["lon"], y=params["lat"])
        elif mode == "x/y":
            queryset = selectors.parcel_list_at_point(x=params["x"], y=params["y"], srid=params["srid"])
        else:
            queryset = selectors.parcel_list_in_bbox(bbox=params["bbox"])
            output, default_limit = s.ParcelLightFeatureOutput, 1000
        return feature_collection(
            queryset=queryset,
            output=output,
            limit=params.get("limit"),
            default_limit=default_limit,
            context={"request": request},
        )


class ParcelDetailApi(APIView):
    """One parcel with its commune, zoning rules and constraints."""

    @extend_schema(operation_id="parcel_detail", responses={200: s.ParcelFeatureOutput})
    def get(self, request: Request, parcel_id: int) -> Response:
        parcel = selectors.parcel_get(parcel_id=parcel_id)
        if parcel is None:
            raise NotFound(_("No parcel with id %(id)s.") % {"id": parcel_id})
        return Response(s.ParcelFeatureOutput(parcel, context={"request": request}).data)


class LayerListApi(APIView):
    """A map layer as GeoJSON: validate the query, select, page. Subclasses name the three parts."""

    query_input: type[Serializer]
    output: type[Serializer]

    def select(self, params: dict) -> QuerySet:
        raise NotImplementedError

    def get(self, request: Request) -> Response:
        query = self.query_input(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        return feature_collection(
            queryset=self.select(params),
            output=self.output,
            limit=params.get("limit"),
            default_limit=1000,
            context={},
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="admin_area_list", parameters=[s.AdminAreaQueryInput], responses={200: FEATURE_COLLECTION_SCHEMA}
    )
)
class AdminAreaListApi(LayerListApi):
    """Administrative areas (regions, provinces, communes, arrondissements) as GeoJSON."""

    query_input, output = s.AdminAreaQueryInput, s.AdminAreaFeatureOutput

    def select(self, params: dict) -> QuerySet:
        return selectors.admin_area_list(bbox=params.get("bbox"), level=params.get("level"))


@extend_schema_view(
    get=extend_schema(
        operation_id="zoning_list", parameters=[s.ZoningQueryInput], responses={200: FEATURE_COLLECTION_SCHEMA}
    )
)
class ZoningListApi(LayerListApi):
    """Zoning zones with their rules as GeoJSON."""

    query_input, output = s.ZoningQueryInput, s.ZoningZoneFeatureOutput

    def select(self, params: dict) -> QuerySet:
        return selectors.zoning_zone_list(bbox=params.get("bbox"), plan=params.get("plan"))


@extend_schema_view(
    get=extend_schema(
        operation_id="constraint_list", parameters=[s.ConstraintQueryInput], responses={200: FEATURE_COLLECTION_SCHEMA}
    )
)
class ConstraintListApi(LayerListApi):
    """Constraint areas (heritage, coastline, airport servitude, road alignment, flood zone…) as GeoJSON."""

    query_input, output = s.ConstraintQueryInput, s.ConstraintAreaFeatureOutput

    def select(self, params: dict) -> QuerySet:
        return selectors.constraint_area_list(bbox=params.get("bbox"), kind=params.get("kind"))
