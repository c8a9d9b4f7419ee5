"""Signatures API: a document's signature requests and status, signing (a job), and verification of
a document or of an uploaded copy (public) with the per-signature facts and the ETSI verdict."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import NotFound
from permits import pades
from permits.api.views import ERRORS, READ_ERRORS, PermitsApi
from permits.issuing import document_for_code
from permits.roles import user_is_staff_role
from permits.signing import (
    SIGNED_KINDS,
    copy_bytes,
    document_report,
    signature_queue,
    signature_requests_plan,
    upload_check,
)

SIGNATURES = ["signatures"]


class SignatureRequestOutput(serializers.Serializer):
    position = serializers.IntegerField()
    role = serializers.CharField()
    signer = serializers.CharField(source="signer.username", allow_null=True, default=None)
    organisation = serializers.CharField(source="organisation.code", allow_null=True, default=None)
    status = serializers.CharField()
    level = serializers.CharField()
    signed_by = serializers.CharField(source="signed_by.username", allow_null=True, default=None)
    signed_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField()


class SignatureFactsOutput(serializers.Serializer):
    field_name = serializers.CharField()
    kind = serializers.CharField()
    signer = serializers.CharField()
    signing_time = serializers.DateTimeField(allow_null=True)
    timestamp_time = serializers.DateTimeField(allow_null=True)
    intact = serializers.BooleanField()
    crypto_valid = serializers.BooleanField()
    trusted = serializers.BooleanField()
    coverage = serializers.CharField()
    modifications = serializers.CharField()
    level = serializers.CharField()
    verdict = serializers.CharField()
    subindication = serializers.CharField()
    message = serializers.CharField()


class ReportOutput(serializers.Serializer):
    sha256 = serializers.CharField()
    verdict = serializers.CharField()
    problem = serializers.CharField()
    signatures = SignatureFactsOutput(many=True)


class SignInput(serializers.Serializer):
    password = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)


def _signable(code: str):
    document = document_for_code(code=code)
    if document is None or document.kind not in SIGNED_KINDS:
        raise NotFound(_("No document has this verification code."))
    return document


class DocumentSignaturesApi(PermitsApi):
    @extend_schema(operation_id="document_signatures", tags=SIGNATURES, summary="Who has signed, who is awaited",
                   responses={200: SignatureRequestOutput(many=True), **READ_ERRORS})  # fmt: skip
    def get(self, request: Request, code: str) -> Response:
        if not user_is_staff_role(request.user):
            raise NotFound(_("No document has this verification code."))
        requests = signature_requests_plan(document=_signable(code))
        return Response(SignatureRequestOutput(requests, many=True).data)

    @extend_schema(operation_id="document_sign", tags=SIGNATURES, summary="Sign (queues the signing job)",
                   description="The awaited signer, with the password (or PIN) of their key.",
                   request=SignInput, responses={202: SignatureRequestOutput, **ERRORS})  # fmt: skip
    def post(self, request: Request, code: str) -> Response:
        data = SignInput(data=request.data)
        data.is_valid(raise_exception=True)
        signed = signature_queue(document=_signable(code), user=request.user, password=data.validated_data["password"])
        return Response(SignatureRequestOutput(signed).data, status=202)


def _report_data(report: pades.ValidationReport) -> dict:
    return {"sha256": report.sha256, "verdict": report.verdict.value, "problem": report.problem,
            "signatures": [{**vars(s), "verdict": s.verdict.value} for s in report.signatures]}  # fmt: skip


class DocumentValidationApi(APIView):
    """Public: the validation of a document on record, or of an uploaded copy (multipart ``pdf``)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser]

    @extend_schema(operation_id="document_validation", tags=SIGNATURES, summary="Validate a document (public)",
                   responses={200: ReportOutput, 404: READ_ERRORS[404]})  # fmt: skip
    def get(self, request: Request, code: str) -> Response:
        document = document_for_code(code=code)
        if document is None:
            raise NotFound(_("No document has this verification code."))
        report = document_report(document=document)
        if report is None:
            return Response({"sha256": document.sha256, "verdict": "", "problem": "unsigned", "signatures": []})
        return Response(_report_data(report))

    @extend_schema(operation_id="document_copy_check", tags=SIGNATURES, summary="Check an uploaded copy (public)",
                   request={"multipart/form-data": {"type": "object", "properties": {"pdf": {"type": "string",
                            "format": "binary"}}}}, responses={200: ReportOutput, **ERRORS})  # fmt: skip
    def post(self, request: Request, code: str) -> Response:
        document = document_for_code(code=code)
        if document is None:
            raise NotFound(_("No document has this verification code."))
        check = upload_check(data=copy_bytes(request.FILES.get("pdf")), document=document)
        body = _report_data(check.report)
        body["matches"] = "current" if check.matches_current else ("earlier" if check.matches_earlier_state else "none")
        return Response(body)
