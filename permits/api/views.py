"""API views of the permits app: one view per operation, its input serializer beside it.

Reads go through ``permits.selectors`` and writes through ``permits.services`` and
``permits.workflow.dossier_transition``; a view only checks who is asking, validates the input,
calls one of those and presents the answer with ``permits.api.serializers``.

Access rules, in the order they are checked:

1. Procedures are public; every other endpoint needs an authenticated user (401/403 otherwise).
2. A dossier the user may not see does not exist for them: 404 for every operation on it, never 403,
   so references and ids cannot be probed.
3. On a dossier they can see, only its filers (the architect, the creator, the applicant's account,
   or a superuser) edit the draft and upload documents; only the desk records the completeness check
   and reclassifies; the workflow decides who makes each transition. Otherwise 403.

Where one URL serves two operations (list and create, read and update), each operation is its own
view class and the URL's view only combines them.
"""

from __future__ import annotations

from django.apps import apps
from django.db import transaction
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from config.api_errors import NotFound
from geo.models import AdminArea, Parcel, reference_key
from permits import selectors
from permits.api import serializers as s
from permits.deadlines import WorkingCalendar
from permits.models import (
    ChecklistVerdict,
    Classification,
    CompletenessReview,
    Document,
    Dossier,
    PartyKind,
    Procedure,
    Status,
)
from permits.receipts import receipt_filename, receipt_pdf
from permits.roles import Role, user_has_role, user_is_staff_role
from permits.services import (
    ApplicantData,
    DossierRefused,
    completeness_review_record,
    document_upload,
    dossier_reclassify,
    dossier_save_draft,
)
from permits.workflow import TRANSITIONS, dossier_transition, is_filer

PROCEDURES = ["procedures"]
DOSSIERS = ["dossiers"]
DESK = ["desk"]

# Every error is a problem document (config.api_errors); the schema names the usual ones.
PROBLEM = OpenApiResponse(OpenApiTypes.OBJECT, description="An RFC 9457 problem document.")
READ_ERRORS = {401: PROBLEM, 403: PROBLEM, 404: PROBLEM}
ERRORS = {400: PROBLEM, **READ_ERRORS}


def _authentication_classes() -> list[type]:
    """The configured authentication, with DRF tokens first once ``rest_framework.authtoken`` is installed.

    Token first also makes an anonymous request answer 401 with ``WWW-Authenticate: Token``.
    """
    classes = list(api_settings.DEFAULT_AUTHENTICATION_CLASSES)
    if apps.is_installed("rest_framework.authtoken") and TokenAuthentication not in classes:
        classes.insert(0, TokenAuthentication)
    return classes


class DossierPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class PageInput(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=DossierPagination.max_page_size)


class IsDeskAgent(BasePermission):
    """The desk of the one-stop shop (superusers hold every role)."""

    message = gettext_lazy("Only the desk of the one-stop shop may do this.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and user_has_role(request.user, Role.DESK_AGENT))


class PermitsApi(APIView):
    """The base of every permits endpoint: authenticated users only."""

    authentication_classes = _authentication_classes()
    permission_classes = [IsAuthenticated]


# --- helpers -----------------------------------------------------------------------------------------


def _not_found(dossier_id: int) -> NotFound:
    return NotFound(_("No dossier with id %(id)s.") % {"id": dossier_id})


def _visible_dossier(request: Request, dossier_id: int) -> Dossier:
    """The dossier if the user may see it; otherwise 404, whether it exists or not."""
    dossier = selectors.dossier_get_visible(user=request.user, dossier_id=dossier_id)
    if dossier is None:
        raise _not_found(dossier_id)
    return dossier


def _detail_queryset(user) -> QuerySet[Dossier]:
    """Visible dossiers with everything the detail shows, in a fixed number of queries."""
    return selectors.dossier_list_visible_to(user=user).prefetch_related(
        Prefetch("parcels", queryset=Parcel.objects.only("id", "reference", "area_m2")),
        Prefetch("documents", queryset=Document.objects.select_related("uploaded_by").order_by("item_code", "version")),
        Prefetch("completeness", queryset=CompletenessReview.objects.order_by("reviewed_at", "id")),
        "procedure__checklist",
        "clock_stops",
    )


def _detail_response(request: Request, dossier_id: int, *, status: int = 200) -> Response:
    dossier = _detail_queryset(request.user).filter(pk=dossier_id).first()
    if dossier is None:
        raise _not_found(dossier_id)
    return Response(s.DossierDetailOutput(dossier, context={"request": request}).data, status=status)


def _require_filer(user, dossier: Dossier) -> None:
    if not (is_filer(user, dossier) or user.is_superuser):
        raise PermissionDenied(_("Only the architect or applicant who files this dossier may do this."))


def _require_desk(user) -> None:
    if not user_has_role(user, Role.DESK_AGENT):
        raise PermissionDenied(_("Only the desk of the one-stop shop may do this."))


def _page(request: Request, view: APIView, items, output: type[serializers.Serializer], context: dict) -> Response:
    paginator = DossierPagination()
    page = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(output(page, many=True, context=context).data)


# --- procedures --------------------------------------------------------------------------------------


class ProcedureListApi(APIView):
    """The procedures open for filing, in the language of the request."""

    authentication_classes = _authentication_classes()
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="procedure_list",
        tags=PROCEDURES,
        summary="List the procedures open for filing",
        description=(
            "Public. Each procedure with its names (`name` in the request's language, `names` in all three), "
            "family, form fields, document checklist (main documents make a file admissible; accepted formats, "
            "maximum size), legal deadlines per step in working days, tacit approval and validity."
        ),
        responses={200: s.ProcedureOutput(many=True)},
    )
    def get(self, request: Request) -> Response:
        procedures = selectors.procedure_list_open()
        return Response(s.ProcedureOutput(procedures, many=True).data)


class ProcedureDetailApi(APIView):
    """One procedure by its code (also a closed one, for the dossiers filed under it)."""

    authentication_classes = _authentication_classes()
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="procedure_detail",
        tags=PROCEDURES,
        summary="Read one procedure",
        responses={200: s.ProcedureOutput, 404: PROBLEM},
    )
    def get(self, request: Request, code: str) -> Response:
        procedure = Procedure.objects.prefetch_related("checklist").filter(code=code).first()
        if procedure is None:
            raise NotFound(_("No procedure with code “%(code)s”.") % {"code": code})
        return Response(s.ProcedureOutput(procedure).data)


# --- dossiers: list, create, read, update ------------------------------------------------------------


class DossierListApi(PermitsApi):
    class DossierListFilterInput(PageInput):
        status = serializers.MultipleChoiceField(
            choices=Status.choices, required=False, help_text=gettext_lazy("Repeat to give several.")
        )
        procedure = serializers.SlugField(required=False, help_text=gettext_lazy("Procedure code."))
        commune = serializers.CharField(required=False, max_length=40, help_text=gettext_lazy("Commune code."))
        reference = serializers.CharField(
            required=False, max_length=40, help_text=gettext_lazy("Beginning of the reference, any case.")
        )

    @extend_schema(
        operation_id="dossier_list",
        tags=DOSSIERS,
        summary="List the dossiers visible to you",
        description=(
            "Applicants and architects see their own dossiers; staff roles see every dossier. Newest first, "
            "paginated (`page`, `page_size` up to 100)."
        ),
        parameters=[DossierListFilterInput],
        responses={200: s.DossierPageOutput, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = self.DossierListFilterInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        dossiers = selectors.dossier_list_visible_to(user=request.user)
        if params.get("status"):
            dossiers = dossiers.filter(status__in=params["status"])
        if params.get("procedure"):
            dossiers = dossiers.filter(procedure__code=params["procedure"])
        if params.get("commune"):
            dossiers = dossiers.filter(commune__code=params["commune"])
        if params.get("reference"):
            dossiers = dossiers.filter(reference__istartswith=params["reference"].strip())
        return _page(request, self, dossiers.order_by("-created_at", "-id"), s.DossierListOutput, {"request": request})


class ApplicantInput(serializers.Serializer):
    """The project owner: a person (names and CIN) or a company (name and RC), with a contact."""

    kind = s.PartyKindField(default=PartyKind.PERSON)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    company_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    national_id = serializers.CharField(required=False, allow_blank=True, max_length=20)
    company_register = serializers.CharField(required=False, allow_blank=True, max_length=40)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=20)
    address = serializers.CharField(required=False, allow_blank=True, max_length=300)
    language = serializers.ChoiceField(choices=["fr", "ar", "en"], required=False)


class DossierDraftInput(serializers.Serializer):
    """What a draft holds; on update every field is optional and a missing one keeps its value."""

    procedure = serializers.SlugField(help_text=gettext_lazy("Procedure code."))
    applicant = ApplicantInput()
    parcel_ids = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=200)
    parcel_references = serializers.ListField(
        child=serializers.CharField(max_length=80),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Land-title references, e.g. `TF 1002/C` (case and spaces ignored)."),
    )
    site = s.SiteGeometryField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Drawn site boundary; without it the site is the union of the parcels."),
    )
    commune = serializers.CharField(
        required=False, max_length=40, help_text=gettext_lazy("Commune code; deduced from the parcels or the site.")
    )
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    figures = serializers.DictField(
        required=False, help_text=gettext_lazy("Declared figures keyed by the procedure's form fields.")
    )

    def validate_procedure(self, code: str) -> Procedure:
        procedure = Procedure.objects.filter(code=code).first()
        if procedure is None:
            raise serializers.ValidationError(_("No procedure with code “%(code)s”.") % {"code": code})
        return procedure

    def validate_commune(self, code: str) -> AdminArea:
        commune = AdminArea.objects.filter(level="commune", code=code).first()
        if commune is None:
            raise serializers.ValidationError(_("No commune with code “%(code)s”.") % {"code": code})
        return commune

    def validate_site(self, value):
        if value is not None and value.geom_type not in {"Polygon", "MultiPolygon"}:
            raise serializers.ValidationError(_("The site boundary must be a Polygon or a MultiPolygon."))
        return value

    def validate(self, attrs: dict) -> dict:
        if "parcel_ids" in attrs or "parcel_references" in attrs:
            attrs["parcels"] = self._parcels(attrs.pop("parcel_ids", []), attrs.pop("parcel_references", []))
        return attrs

    @staticmethod
    def _parcels(ids: list[int], references: list[str]) -> list[Parcel]:
        found = list(Parcel.objects.filter(pk__in=ids)) if ids else []
        missing = sorted(set(ids) - {parcel.pk for parcel in found})
        problems = {}
        if missing:
            problems["parcel_ids"] = _("No parcel with id %(ids)s.") % {"ids": ", ".join(map(str, missing))}
        if references:
            keys = {reference_key(reference): reference for reference in references}
            by_key = {parcel.reference_key: parcel for parcel in Parcel.objects.filter(reference_key__in=keys)}
            unknown = [reference for key, reference in keys.items() if key not in by_key]
            if unknown:
                problems["parcel_references"] = _("No parcel with reference %(refs)s.") % {"refs": ", ".join(unknown)}
            found += by_key.values()
        if problems:
            raise serializers.ValidationError(problems)
        unique = {parcel.pk: parcel for parcel in found}
        return list(unique.values())


def _applicant_data(values: dict) -> ApplicantData:
    return ApplicantData(**{key: value for key, value in values.items() if key in ApplicantData.__dataclass_fields__})


class DossierCreateApi(PermitsApi):
    class DossierCreateInput(DossierDraftInput):
        pass

    @extend_schema(
        operation_id="dossier_create",
        tags=DOSSIERS,
        summary="Create a draft dossier",
        description=(
            "Applicants and architects only. Give the procedure, the applicant, the parcels (ids and/or "
            "references) or a drawn site, a title and the declared figures. Figures and documents are checked "
            "on submission; the draft can be completed with `PATCH` and uploads."
        ),
        request=DossierCreateInput,
        responses={201: s.DossierDetailOutput, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        if not user_has_role(request.user, Role.APPLICANT, Role.ARCHITECT):
            raise PermissionDenied(_("Only applicants and architects file dossiers."))
        payload = self.DossierCreateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        dossier = dossier_save_draft(
            actor=request.user,
            procedure=data["procedure"],
            applicant=_applicant_data(data["applicant"]),
            parcels=data.get("parcels", []),
            site=data.get("site"),
            commune=data.get("commune"),
            title=data.get("title", ""),
            figures=data.get("figures", {}),
        )
        response = _detail_response(request, dossier.pk, status=201)
        response["Location"] = reverse("permits-api:dossier-detail", kwargs={"dossier_id": dossier.pk})
        return response


class DossierListCreateApi(DossierListApi, DossierCreateApi):
    """``/api/dossiers/``: GET is :class:`DossierListApi`, POST is :class:`DossierCreateApi`."""


class DossierDetailApi(PermitsApi):
    @extend_schema(
        operation_id="dossier_detail",
        tags=DOSSIERS,
        summary="Read a dossier",
        description=(
            "Parcels, site (GeoJSON), figures, classification and the rule that decided it, status, the legal "
            "clock (elapsed, remaining, due date, tacit-approval date), the checklist with the desk's verdicts, "
            "every document version with its SHA-256, and the actions the requesting user may take now."
        ),
        responses={200: s.DossierDetailOutput, **READ_ERRORS},
    )
    def get(self, request: Request, dossier_id: int) -> Response:
        return _detail_response(request, dossier_id)


class DossierUpdateApi(PermitsApi):
    class DossierUpdateInput(DossierDraftInput):
        procedure = serializers.SlugField(required=False, help_text=gettext_lazy("Procedure code."))
        applicant = ApplicantInput(required=False)

    @extend_schema(
        operation_id="dossier_update",
        tags=DOSSIERS,
        summary="Update a draft",
        description=(
            "The filers of a draft only. Fields left out keep their value; `applicant` and `figures` are merged "
            "key by key (a figure set to null is removed); parcels given replace the parcels; `site: null` "
            "goes back to the union of the parcels."
        ),
        request=DossierUpdateInput,
        responses={200: s.DossierDetailOutput, **ERRORS},
    )
    def patch(self, request: Request, dossier_id: int) -> Response:
        dossier = _visible_dossier(request, dossier_id)
        _require_filer(request.user, dossier)
        payload = self.DossierUpdateInput(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        procedure = data.get("procedure", dossier.procedure)
        if procedure != dossier.procedure and dossier.documents.exists():
            # The same rule as the wizard's: documents answer one procedure's checklist.
            raise DossierRefused(_("Documents are already filed for this procedure: start a new dossier instead."))
        applicant = s.ApplicantOutput(dossier.applicant).data
        applicant.update(data.get("applicant", {}))
        figures = {**dossier.figures, **data.get("figures", {})}
        if "site" in data:
            site = data["site"]
        else:
            site = dossier.site.clone() if dossier.site is not None and dossier.site_source == "drawn" else None
        dossier_save_draft(
            actor=request.user,
            dossier=dossier,
            procedure=procedure,
            applicant=_applicant_data(applicant),
            parcels=data["parcels"] if "parcels" in data else list(dossier.parcels.all()),
            site=site,
            commune=data.get("commune"),
            title=data.get("title", dossier.title),
            figures={name: value for name, value in figures.items() if value is not None},
        )
        return _detail_response(request, dossier_id)


class DossierDetailUpdateApi(DossierDetailApi, DossierUpdateApi):
    """``/api/dossiers/{id}/``: GET is :class:`DossierDetailApi`, PATCH is :class:`DossierUpdateApi`."""


# --- documents ---------------------------------------------------------------------------------------


class DocumentUploadApi(PermitsApi):
    parser_classes = [MultiPartParser, FormParser]

    class DocumentUploadInput(serializers.Serializer):
        item = serializers.SlugField(help_text=gettext_lazy("Checklist item code of the procedure."))
        # Emptiness, size and the real type are the service's checks, with its clearer messages.
        file = serializers.FileField(allow_empty_file=True, use_url=False)

    @extend_schema(
        operation_id="document_upload",
        tags=DOSSIERS,
        summary="Upload a document (a new version)",
        description=(
            "The filers only, while the dossier accepts documents. The type is recognised from the content "
            "(magic bytes), never from the name; the size is checked against the checklist item. A refused file "
            "leaves nothing stored. Each upload is a new version; earlier versions are kept."
        ),
        request={"multipart/form-data": DocumentUploadInput},
        responses={201: s.DocumentOutput, **ERRORS},
    )
    def post(self, request: Request, dossier_id: int) -> Response:
        dossier = _visible_dossier(request, dossier_id)
        _require_filer(request.user, dossier)
        payload = self.DocumentUploadInput(data=request.data)
        payload.is_valid(raise_exception=True)
        document = document_upload(
            dossier=dossier,
            item_code=payload.validated_data["item"],
            uploaded_file=payload.validated_data["file"],
            actor=request.user,
        )
        document = Document.objects.select_related("uploaded_by").get(pk=document.pk)
        output = s.DocumentOutput(document, context={"request": request}).data
        return Response(output, status=201, headers={"Location": output["file_url"]})


class AnyContentNegotiation(BaseContentNegotiation):
    """A file answer ignores the client's ``Accept`` (errors still come out as problem JSON)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class DocumentFileApi(PermitsApi):
    content_negotiation_class = AnyContentNegotiation

    @extend_schema(
        operation_id="document_file",
        tags=DOSSIERS,
        summary="Download one version of a document",
        description="Streams the stored file with its detected content type; the ETag is its SHA-256.",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **READ_ERRORS},
    )
    def get(self, request: Request, dossier_id: int, document_id: int) -> FileResponse:
        dossier = _visible_dossier(request, dossier_id)
        document = dossier.documents.filter(pk=document_id).first()
        if document is None:
            raise NotFound(_("No document %(id)s in this dossier.") % {"id": document_id})
        response = FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )
        response["ETag"] = f'"{document.sha256}"'
        return response


class DossierReceiptApi(PermitsApi):
    content_negotiation_class = AnyContentNegotiation

    @extend_schema(
        operation_id="dossier_receipt",
        tags=DOSSIERS,
        summary="Download the filing receipt (PDF)",
        description=(
            "The receipt of a submitted dossier, in French and Arabic: its number, filing date, documents with "
            "their SHA-256, the committee date when known and the tracking link. A draft has none (404)."
        ),
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **READ_ERRORS},
    )
    def get(self, request: Request, dossier_id: int) -> HttpResponse:
        dossier = _visible_dossier(request, dossier_id)
        if dossier.reference is None:
            raise NotFound(_("A draft has no receipt yet."))
        response = HttpResponse(receipt_pdf(dossier=dossier), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{receipt_filename(dossier=dossier)}"'
        return response


# --- workflow ----------------------------------------------------------------------------------------


class DossierTransitionApi(PermitsApi):
    class DossierTransitionInput(serializers.Serializer):
        action = serializers.ChoiceField(choices=[(name, t.label) for name, t in TRANSITIONS.items()])
        reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
        session_date = serializers.DateField(required=False, help_text=gettext_lazy("Committee date, to schedule."))

    @extend_schema(
        operation_id="dossier_transition",
        tags=DOSSIERS,
        summary="Move the dossier to its next status",
        description=(
            "One workflow action (see `actions` on the dossier for what you may do now). Refused with a problem "
            "document: 400 when the dossier is not in a status that allows it or is not ready (the detail says "
            "what is missing), 403 when your role may not make it or you do not file this dossier."
        ),
        request=DossierTransitionInput,
        responses={200: s.DossierDetailOutput, **ERRORS},
    )
    def post(self, request: Request, dossier_id: int) -> Response:
        dossier = _visible_dossier(request, dossier_id)
        payload = self.DossierTransitionInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        dossier_transition(
            dossier=dossier,
            action=data["action"],
            actor=request.user,
            reason=data["reason"],
            data={"session_date": data["session_date"]} if "session_date" in data else {},
        )
        return _detail_response(request, dossier_id)


class DossierTimelineApi(PermitsApi):
    @extend_schema(
        operation_id="dossier_timeline",
        tags=DOSSIERS,
        summary="The dossier's timeline",
        description="Public events for the filers; every event, with who acted, for staff roles.",
        responses={200: s.EventOutput(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, dossier_id: int) -> Response:
        dossier = _visible_dossier(request, dossier_id)
        staff = user_is_staff_role(request.user)
        events = selectors.dossier_timeline(dossier=dossier, include_internal=staff)
        context = {"request": request, "viewer_is_staff": staff}
        return Response(s.EventOutput(events, many=True, context=context).data)


class DossierNotificationListApi(PermitsApi):
    @extend_schema(
        operation_id="dossier_notifications",
        tags=DOSSIERS,
        summary="Messages sent about the dossier and their delivery",
        description=(
            "E-mails and SMS with their delivery status and attempts, newest first. Filers see addresses masked "
            "and a generic sentence instead of the backend's error."
        ),
        responses={200: s.NotificationOutput(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, dossier_id: int) -> Response:
        dossier = _visible_dossier(request, dossier_id)
        notifications = dossier.notifications.order_by("-created_at", "-id")
        context = {"request": request, "viewer_is_staff": user_is_staff_role(request.user)}
        return Response(s.NotificationOutput(notifications, many=True, context=context).data)


# --- the desk ----------------------------------------------------------------------------------------


class CompletenessVerdictInput(serializers.Serializer):
    item = serializers.SlugField(help_text=gettext_lazy("Checklist item code."))
    verdict = serializers.ChoiceField(choices=ChecklistVerdict.choices)
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=gettext_lazy("Required unless present.")
    )


class DossierCompletenessApi(PermitsApi):
    @extend_schema(
        operation_id="dossier_completeness_record",
        tags=DESK,
        summary="Record the completeness check, item by item",
        description=(
            "Desk agents only, on a submitted dossier. A list of verdicts; `missing` and `non_compliant` need a "
            "reason. All verdicts are recorded or none. Then `accept` (every main document present) or "
            "`declare_inadmissible` through the transitions endpoint."
        ),
        request=CompletenessVerdictInput(many=True),
        responses={200: s.DossierDetailOutput, **ERRORS},
    )
    def post(self, request: Request, dossier_id: int) -> Response:
        dossier = _visible_dossier(request, dossier_id)
        _require_desk(request.user)
        payload = CompletenessVerdictInput(data=request.data, many=True, allow_empty=False)
        payload.is_valid(raise_exception=True)
        checklist = {item.code: item for item in dossier.procedure.checklist.all()}
        verdicts = payload.validated_data
        unknown = sorted({v["item"] for v in verdicts} - set(checklist))
        if unknown:
            raise serializers.ValidationError(
                {"item": _("Not in this procedure's checklist: %(codes)s.") % {"codes": ", ".join(unknown)}}
            )
        with transaction.atomic():  # all verdicts or none
            for verdict in verdicts:
                completeness_review_record(
                    dossier=dossier,
                    item=checklist[verdict["item"]],
                    verdict=verdict["verdict"],
                    reason=verdict["reason"],
                    actor=request.user,
                )
        return _detail_response(request, dossier_id)


class DossierClassificationApi(PermitsApi):
    class DossierClassificationInput(serializers.Serializer):
        classification = serializers.ChoiceField(choices=Classification.choices)
        reason = serializers.CharField(max_length=2000)

    @extend_schema(
        operation_id="dossier_classification_set",
        tags=DESK,
        summary="Override the large/small classification",
        description="Desk agents only, with a written reason, which replaces the computed rule on the dossier.",
        request=DossierClassificationInput,
        responses={200: s.DossierDetailOutput, **ERRORS},
    )
    def post(self, request: Request, dossier_id: int) -> Response:
        dossier = _visible_dossier(request, dossier_id)
        _require_desk(request.user)
        payload = self.DossierClassificationInput(data=request.data)
        payload.is_valid(raise_exception=True)
        dossier_reclassify(
            dossier=dossier,
            classification=payload.validated_data["classification"],
            reason=payload.validated_data["reason"],
            actor=request.user,
        )
        return _detail_response(request, dossier_id)


class DeskOverdueListApi(PermitsApi):
    permission_classes = [IsAuthenticated, IsDeskAgent]

    @extend_schema(
        operation_id="desk_overdue_list",
        tags=DESK,
        summary="Dossiers past the legal deadline of their running step",
        description="Desk agents only. Most late first, each with its clock; paginated.",
        parameters=[PageInput],
        responses={200: s.DeskDossierPageOutput, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        PageInput(data=request.query_params).is_valid(raise_exception=True)
        late = selectors.dossier_overdue_list(today=timezone.localdate())
        dossiers = [dossier for dossier, _clock in late]
        prefetch_related_objects(dossiers, "architect")  # one query, not one per row
        context = {"request": request, "clocks": {dossier.pk: clock for dossier, clock in late}}
        return _page(request, self, dossiers, s.DeskDossierOutput, context)


class DeskIncomingListApi(PermitsApi):
    permission_classes = [IsAuthenticated, IsDeskAgent]

    @extend_schema(
        operation_id="desk_incoming_list",
        tags=DESK,
        summary="Submitted dossiers awaiting the completeness check",
        description="Desk agents only. Oldest submission first, each with its clock; paginated.",
        parameters=[PageInput],
        responses={200: s.DeskDossierPageOutput, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        PageInput(data=request.query_params).is_valid(raise_exception=True)
        incoming = (
            selectors.dossier_list_visible_to(user=request.user)
            .filter(status=Status.SUBMITTED)
            .prefetch_related("clock_stops")
            .order_by("submitted_at", "id")
        )
        context = {"request": request, "calendar": WorkingCalendar()}
        return _page(request, self, incoming, s.DeskDossierOutput, context)
