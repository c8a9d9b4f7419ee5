"""API of committee opinions, outcomes, session closing, minutes, decisions, remarks and verification.

One view per operation; the services of :mod:`permits.opinions` and :mod:`permits.issuing` decide and
raise domain errors that become problem documents. Access: a dossier the user may not see answers 404
(as everywhere in the permits API); a session or remark that does not exist answers 404; an operation
the user's role or organisation does not allow answers 403. ``/api/verify/{code}/`` is public.
"""

from __future__ import annotations

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import NotFound
from permits.api.views import ERRORS, READ_ERRORS, AnyContentNegotiation, PermitsApi, _visible_dossier
from permits.issuing import (
    current_document,
    decision_generate,
    document_for_code,
    document_reference,
    document_replaced_by,
    minutes_generate,
)
from permits.models import IssuedDocument, Organisation, Remark, Session, Verdict
from permits.opinions import (
    OpinionForbidden,
    member_organisation_for,
    opinion_record,
    opinions_visible_to,
    outcome_consolidate,
    remark_answer,
    session_close,
)
from permits.selectors import dossier_get_visible

COMMITTEE = ["committee"]


class RemarkOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    answer = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    resolved = serializers.BooleanField()


class OpinionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    organisation = serializers.CharField(source="organisation.code")
    organisation_name = serializers.CharField(source="organisation.name")
    binding = serializers.BooleanField(source="organisation.binding_opinion")
    review_round = serializers.IntegerField()
    verdict = serializers.CharField()
    remarks = serializers.CharField()
    remark_items = RemarkOutput(many=True, source="remark_items.all")
    created_at = serializers.DateTimeField()


class OpinionDocumentOutput(serializers.Serializer):
    kind = serializers.CharField()
    sha256 = serializers.CharField()
    verification_code = serializers.CharField()
    created_at = serializers.DateTimeField()
    replaces = serializers.CharField(source="replaces.verification_code", allow_null=True, default=None)


def _session_or_404(session_id: int) -> Session:
    session = Session.objects.select_related("committee").filter(pk=session_id).first()
    if session is None:
        raise NotFound(_("No session with id %(id)s.") % {"id": session_id})
    return session


def _pdf(document: IssuedDocument | None) -> FileResponse:
    if document is None:
        raise NotFound(_("This document has not been generated yet."))
    name = document.file.name.rsplit("/", 1)[-1]
    return FileResponse(document.file.open("rb"), content_type="application/pdf", as_attachment=True, filename=name)


class DossierOpinionsApi(PermitsApi):
    class OpinionInput(serializers.Serializer):
        verdict = serializers.ChoiceField(choices=Verdict.choices)
        remarks = serializers.CharField(required=False, allow_blank=True, default="", max_length=8000)
        remark_items = serializers.ListField(
            child=serializers.CharField(max_length=2000), required=False, default=list, max_length=100
        )
        organisation = serializers.SlugField(
            required=False, help_text="Code of your organisation, when you belong to several selected ones."
        )

    @extend_schema(
        operation_id="dossier_opinions",
        tags=COMMITTEE,
        summary="The committee opinions you may read",
        description=(
            "Opinions are parallel and hidden: a member sees the other organisations' opinions of the current "
            "round only once their own organisation has given one; the president and the desk see all."
        ),
        responses={200: OpinionOutput(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, dossier_id: int) -> Response:
        dossier = _visible_dossier(request, dossier_id)
        return Response(OpinionOutput(opinions_visible_to(dossier=dossier, user=request.user), many=True).data)

    @extend_schema(
        operation_id="dossier_opinion_record",
        tags=COMMITTEE,
        summary="Give your organisation's opinion",
        description="Once per organisation and review round. 403 when you are not a member of a selected body.",
        request=OpinionInput,
        responses={201: OpinionOutput, **ERRORS},
    )
    def post(self, request: Request, dossier_id: int) -> Response:
        dossier = _visible_dossier(request, dossier_id)
        payload = self.OpinionInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if "organisation" in data:
            organisation = Organisation.objects.filter(code=data["organisation"]).first()
        else:
            organisation = member_organisation_for(user=request.user, dossier=dossier)
        if organisation is None:
            raise OpinionForbidden(_("You are not a member of an organisation selected for this dossier."))
        opinion = opinion_record(
            dossier=dossier, organisation=organisation, author=request.user, verdict=data["verdict"],
            remarks_text=data["remarks"], remark_items=data["remark_items"],
        )  # fmt: skip
        return Response(OpinionOutput(opinion).data, status=201)


class DossierOutcomeApi(PermitsApi):
    class OutcomeOutput(serializers.Serializer):
        verdict = serializers.CharField()
        concluded = serializers.BooleanField()
        reasons = serializers.ListField(child=serializers.CharField())
        conditions = serializers.ListField(child=serializers.CharField())
        remarks = serializers.ListField(child=serializers.CharField())
        missing = serializers.SerializerMethodField()

        def get_missing(self, outcome) -> list[str]:
            return [organisation.code for organisation in outcome.missing]

    @extend_schema(
        operation_id="dossier_outcome",
        tags=COMMITTEE,
        summary="The consolidated committee outcome and why",
        description="For the presidency, the desk and the signing authority (403 for others).",
        responses={200: OutcomeOutput, **READ_ERRORS},
    )
    def get(self, request: Request, dossier_id: int) -> Response:
        from permits.opinions import user_sees_all_opinions

        dossier = _visible_dossier(request, dossier_id)
        if not user_sees_all_opinions(user=request.user, dossier=dossier):
            raise OpinionForbidden(_("Only the committee president and the desk see the consolidated outcome."))
        return Response(self.OutcomeOutput(outcome_consolidate(dossier=dossier)).data)


class SessionCloseApi(PermitsApi):
    class SessionCloseOutput(serializers.Serializer):
        session = serializers.IntegerField(source="session.pk")
        status = serializers.CharField(source="session.status")
        outcomes = serializers.SerializerMethodField()

        def get_outcomes(self, result) -> dict[str, str]:
            return {str(dossier_id): outcome.verdict for dossier_id, outcome in result.outcomes.items()}

    @extend_schema(
        operation_id="session_close",
        tags=COMMITTEE,
        summary="Close the session: consolidate and apply each dossier's outcome",
        description="The president only (403). Refused (400) while a dossier lacks a binding opinion.",
        request=None,
        responses={200: SessionCloseOutput, **ERRORS},
    )
    def post(self, request: Request, session_id: int) -> Response:
        result = session_close(session=_session_or_404(session_id), actor=request.user)
        return Response(self.SessionCloseOutput(result).data)


class SessionMinutesApi(PermitsApi):
    @extend_schema(
        operation_id="session_minutes_generate",
        tags=COMMITTEE,
        summary="Generate the minutes (PV) of a closed session",
        description="A new document each time; it replaces the previous one (`replaces`).",
        request=None,
        responses={201: OpinionDocumentOutput, **ERRORS},
    )
    def post(self, request: Request, session_id: int) -> Response:
        document = minutes_generate(session=_session_or_404(session_id), actor=request.user)
        return Response(OpinionDocumentOutput(document).data, status=201)


class SessionMinutesPdfApi(PermitsApi):
    content_negotiation_class = AnyContentNegotiation

    @extend_schema(
        operation_id="session_minutes_pdf",
        tags=COMMITTEE,
        summary="Download the current minutes (PDF)",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **READ_ERRORS},
    )
    def get(self, request: Request, session_id: int) -> FileResponse:
        return _pdf(current_document(kind=IssuedDocument.Kind.MINUTES, session=_session_or_404(session_id)))


class DossierDecisionApi(PermitsApi):
    @extend_schema(
        operation_id="dossier_decision_generate",
        tags=COMMITTEE,
        summary="Generate the decision (permit or reasoned refusal)",
        description="The desk or the signing authority, once the dossier is sent for signature.",
        request=None,
        responses={201: OpinionDocumentOutput, **ERRORS},
    )
    def post(self, request: Request, dossier_id: int) -> Response:
        document = decision_generate(dossier=_visible_dossier(request, dossier_id), actor=request.user)
        return Response(OpinionDocumentOutput(document).data, status=201)


class DossierDecisionPdfApi(PermitsApi):
    content_negotiation_class = AnyContentNegotiation

    @extend_schema(
        operation_id="dossier_decision_pdf",
        tags=COMMITTEE,
        summary="Download the current decision (PDF)",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **READ_ERRORS},
    )
    def get(self, request: Request, dossier_id: int) -> FileResponse:
        dossier = _visible_dossier(request, dossier_id)
        return _pdf(current_document(kind=IssuedDocument.Kind.DECISION, dossier=dossier))


class RemarkAnswerApi(PermitsApi):
    class RemarkAnswerInput(serializers.Serializer):
        answer = serializers.CharField(max_length=8000)

    @extend_schema(
        operation_id="remark_answer",
        tags=COMMITTEE,
        summary="Answer a committee remark",
        description="The dossier's architect or applicant, while changes are requested.",
        request=RemarkAnswerInput,
        responses={200: RemarkOutput, **ERRORS},
    )
    def post(self, request: Request, remark_id: int) -> Response:
        remark = Remark.objects.select_related("opinion__dossier").filter(pk=remark_id).first()
        if remark is None or dossier_get_visible(user=request.user, dossier_id=remark.opinion.dossier_id) is None:
            raise NotFound(_("No remark with id %(id)s.") % {"id": remark_id})
        payload = self.RemarkAnswerInput(data=request.data)
        payload.is_valid(raise_exception=True)
        remark = remark_answer(remark=remark, answer=payload.validated_data["answer"], actor=request.user)
        return Response(RemarkOutput(remark).data)


class VerifyApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class VerifyOutput(serializers.Serializer):
        kind = serializers.CharField()
        reference = serializers.CharField()
        created_at = serializers.DateTimeField()
        sha256 = serializers.CharField()
        verification_code = serializers.CharField()
        replaced_by = serializers.CharField(allow_null=True)

    @extend_schema(
        operation_id="verify_document",
        tags=COMMITTEE,
        summary="Verify an issued document by its code (public)",
        responses={200: VerifyOutput, 404: READ_ERRORS[404]},
    )
    def get(self, request: Request, code: str) -> Response:
        document = document_for_code(code=code)
        if document is None:
            raise NotFound(_("No document has this verification code."))
        replaced_by = document_replaced_by(document)
        return Response(
            self.VerifyOutput(
                {
                    "kind": document.kind,
                    "reference": document_reference(document),
                    "created_at": document.created_at,
                    "sha256": document.sha256,
                    "verification_code": document.verification_code,
                    "replaced_by": replaced_by.verification_code if replaced_by else None,
                }
            ).data
        )
