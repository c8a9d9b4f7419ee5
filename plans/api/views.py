"""API of plan versions: a dossier's plan sets, uploading a version, a version's extraction and features,
control points, scale calibration and units confirmation.

Views only check who asks, validate the input and call ``plans.services`` / ``plans.selectors``.
A dossier or version the user may not see is a 404; only the dossier's filers write (403 otherwise);
refusals are ``DomainError``s, answered as problem documents (``config/api_errors.py``).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_errors import NotFound
from permits.api.views import ERRORS, READ_ERRORS, PermitsApi
from permits.selectors import dossier_get_visible
from plans import selectors, services
from plans.models import PlanVersion

PLANS = ["plans"]


class ControlPointOutput(serializers.Serializer):
    x = serializers.FloatField(source="drawing_x")
    y = serializers.FloatField(source="drawing_y")
    X = serializers.FloatField(source="world_x")
    Y = serializers.FloatField(source="world_y")
    srid = serializers.IntegerField()
    residual_m = serializers.FloatField(allow_null=True)


class VersionSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    refusal_reason = serializers.CharField()
    format = serializers.CharField()
    original_name = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()

    def get_url(self, version: PlanVersion) -> str:
        return reverse("plans-api:version-detail", args=[version.pk])


class VersionDetailOutput(VersionSummaryOutput):
    sheet = serializers.CharField(source="plan_set.sheet")
    dossier = serializers.IntegerField(source="plan_set.dossier_id")
    format_version = serializers.CharField()
    units = serializers.CharField()
    units_inferred = serializers.BooleanField()
    units_confirmed = serializers.BooleanField()
    page = serializers.IntegerField(allow_null=True)
    page_size_mm = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    declared_scale = serializers.IntegerField(allow_null=True)
    metres_per_unit = serializers.FloatField(allow_null=True)
    crs = serializers.SerializerMethodField()
    crs_source = serializers.CharField()
    transform = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    transform_kind = serializers.CharField()
    rmse_m = serializers.FloatField(allow_null=True)
    extent = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    footprint_area_m2 = serializers.FloatField(allow_null=True)
    floors = serializers.IntegerField(allow_null=True)
    warnings = serializers.ListField(child=serializers.CharField())
    entity_count = serializers.IntegerField(allow_null=True)
    control_points = ControlPointOutput(many=True)
    features = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField()
    raster_url = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.STR)
    def get_crs(self, version: PlanVersion) -> str | None:
        return f"EPSG:{version.crs_srid}" if version.crs_srid else None

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_features(self, version: PlanVersion) -> dict:
        return selectors.version_features_geojson(version=version)

    @extend_schema_field(OpenApiTypes.STR)
    def get_preview_url(self, version: PlanVersion) -> str | None:
        return reverse("plans:version_preview", args=[version.pk]) if version.preview else None

    @extend_schema_field(OpenApiTypes.STR)
    def get_raster_url(self, version: PlanVersion) -> str | None:
        return reverse("plans:version_raster", args=[version.pk]) if version.raster else None


class PlanSetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sheet = serializers.CharField()
    versions = VersionSummaryOutput(many=True)


def _visible_version(request: Request, version_id: int) -> PlanVersion:
    version = selectors.plan_version_get_visible(user=request.user, version_id=version_id)
    if version is None:
        raise NotFound(_("No plan version with id %(id)s.") % {"id": version_id})
    return version


def _detail(version_id: int) -> dict:
    version = PlanVersion.objects.select_related("plan_set").prefetch_related("control_points").get(pk=version_id)
    return VersionDetailOutput(version).data


class PlanSetListApi(PermitsApi):
    parser_classes = [MultiPartParser, FormParser]

    class UploadInput(serializers.Serializer):
        sheet = serializers.CharField(max_length=120, help_text=gettext_lazy("The sheet, e.g. “Ground floor”."))
        # Emptiness, size and the real type are the service's checks, with its clearer messages.
        file = serializers.FileField(allow_empty_file=True, use_url=False)
        page = serializers.IntegerField(required=False, min_value=1, default=1)

    @extend_schema(
        operation_id="plan_set_list",
        tags=PLANS,
        summary="Plan sets of a dossier with their versions",
        responses={200: PlanSetOutput(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, dossier_id: int) -> Response:
        dossier = dossier_get_visible(user=request.user, dossier_id=dossier_id)
        if dossier is None:
            raise NotFound(_("No dossier with id %(id)s.") % {"id": dossier_id})
        return Response(PlanSetOutput(selectors.plan_sets_of_dossier(dossier=dossier), many=True).data)

    @extend_schema(
        operation_id="plan_version_upload",
        tags=PLANS,
        summary="Upload a plan (a new version of a sheet)",
        description=(
            "The dossier's filers, while it is a draft or changes were requested. DXF or PDF, recognised from the "
            "content. A refused file leaves nothing stored (400). A large DXF is read by a background job: the "
            "answer is 202 with status `processing`; poll the version."
        ),
        request={"multipart/form-data": UploadInput},
        responses={201: VersionDetailOutput, 202: VersionDetailOutput, **ERRORS},
    )
    def post(self, request: Request, dossier_id: int) -> Response:
        dossier = dossier_get_visible(user=request.user, dossier_id=dossier_id)
        if dossier is None:
            raise NotFound(_("No dossier with id %(id)s.") % {"id": dossier_id})
        payload = self.UploadInput(data=request.data)
        payload.is_valid(raise_exception=True)
        version = services.upload_plan_version(
            dossier=dossier,
            sheet=payload.validated_data["sheet"],
            uploaded_file=payload.validated_data["file"],
            by=request.user,
            page=payload.validated_data["page"],
        )
        output = _detail(version.pk)
        code = 202 if version.status == "processing" else 201
        return Response(output, status=code, headers={"Location": output["url"]})


class VersionDetailApi(PermitsApi):
    @extend_schema(
        operation_id="plan_version_detail",
        tags=PLANS,
        summary="A plan version: what was extracted, its control points and its features (GeoJSON)",
        responses={200: VersionDetailOutput, **READ_ERRORS},
    )
    def get(self, request: Request, version_id: int) -> Response:
        version = _visible_version(request, version_id)
        return Response(_detail(version.pk))


class ControlPointsApi(PermitsApi):
    parser_classes = [JSONParser]

    class PointInput(serializers.Serializer):
        x = serializers.FloatField()
        y = serializers.FloatField()
        X = serializers.FloatField()
        Y = serializers.FloatField()

    class ControlPointsInput(serializers.Serializer):
        srid = serializers.IntegerField(help_text=gettext_lazy("EPSG code of the projected CRS of X, Y."))
        points = serializers.ListField(child=serializers.DictField(), min_length=2, max_length=50)

    @extend_schema(
        operation_id="plan_version_control_points",
        tags=PLANS,
        summary="Georeference a version by control points",
        description=(
            "2 points: similarity (Helmert); 3 or more: affine, by least squares. Each point's residual and the "
            "RMSE are returned; a fit above the configured RMSE is refused (400)."
        ),
        request=ControlPointsInput,
        responses={200: VersionDetailOutput, **ERRORS},
    )
    def post(self, request: Request, version_id: int) -> Response:
        version = _visible_version(request, version_id)
        payload = self.ControlPointsInput(data=request.data)
        payload.is_valid(raise_exception=True)
        pairs = []
        for raw in payload.validated_data["points"]:
            point = self.PointInput(data=raw)
            point.is_valid(raise_exception=True)
            p = point.validated_data
            pairs.append(((p["x"], p["y"]), (p["X"], p["Y"])))
        version = services.georeference_version(
            version=version, points=pairs, srid=payload.validated_data["srid"], by=request.user
        )
        return Response(_detail(version.pk))


class CalibrationApi(PermitsApi):
    parser_classes = [JSONParser, FormParser]

    class CalibrationInput(serializers.Serializer):
        x1 = serializers.FloatField()
        y1 = serializers.FloatField()
        x2 = serializers.FloatField()
        y2 = serializers.FloatField()
        distance_m = serializers.FloatField(min_value=0)

    @extend_schema(
        operation_id="plan_version_calibrate",
        tags=PLANS,
        summary="Calibrate the scale: two drawing points and the distance between them in metres",
        request=CalibrationInput,
        responses={200: VersionDetailOutput, **ERRORS},
    )
    def post(self, request: Request, version_id: int) -> Response:
        version = _visible_version(request, version_id)
        payload = self.CalibrationInput(data=request.data)
        payload.is_valid(raise_exception=True)
        d = payload.validated_data
        version = services.calibrate_scale(
            version=version, p1=(d["x1"], d["y1"]), p2=(d["x2"], d["y2"]), distance_m=d["distance_m"], by=request.user
        )
        return Response(_detail(version.pk))


class UnitsApi(PermitsApi):
    parser_classes = [JSONParser, FormParser]

    class UnitsInput(serializers.Serializer):
        units = serializers.ChoiceField(choices=services.UNIT_CHOICES)

    @extend_schema(
        operation_id="plan_version_confirm_units",
        tags=PLANS,
        summary="Confirm (or correct) the units of a DXF drawing",
        request=UnitsInput,
        responses={200: VersionDetailOutput, **ERRORS},
    )
    def post(self, request: Request, version_id: int) -> Response:
        version = _visible_version(request, version_id)
        payload = self.UnitsInput(data=request.data)
        payload.is_valid(raise_exception=True)
        version = services.confirm_units(version=version, units=payload.validated_data["units"], by=request.user)
        return Response(_detail(version.pk))
