"""API views of committees: committees and their sessions, a dossier's booking and members, agendas.

Same access rules as :mod:`permits.api.views`: every endpoint needs an authenticated user; a dossier the
user may not see answers 404; desk-only operations answer 403 to anyone else. Committees and their
sessions (with free places) are open to every signed-in user, so an architect can choose a date;
agendas list other people's dossiers and are for staff roles only.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_errors import NotFound
from permits.agendas import agenda_build, agenda_pdf, agenda_send
from permits.api.views import (
    ERRORS,
    READ_ERRORS,
    AnyContentNegotiation,
    PermitsApi,
    _require_desk,
    _visible_dossier,
)
from permits.committee_models import Committee, Organisation, Session
from permits.committees import (
    booking_active,
    dossier_member_lines,
    invitee_add,
    sessions_with_places,
    slot_book,
    slot_cancel,
    slot_move,
)
from permits.models import Status
from permits.roles import user_is_staff_role

COMMITTEES = ["committees"]


class CommitteeOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    commune = serializers.CharField(source="commune.code")
    weekdays = serializers.ListField(child=serializers.IntegerField(), help_text="0 = Monday")
    start_time = serializers.TimeField()
    capacity = serializers.IntegerField()
    minutes_per_dossier = serializers.IntegerField()


class SessionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    committee = serializers.CharField(source="committee.code")
    date = serializers.DateField()
    start_time = serializers.TimeField()
    status = serializers.CharField()
    capacity = serializers.IntegerField()
    booked = serializers.IntegerField()
    free = serializers.IntegerField()
    agenda_sent_at = serializers.DateTimeField(allow_null=True)


class BookingOutput(serializers.Serializer):
    session = serializers.IntegerField(source="session_id")
    committee = serializers.CharField(source="session.committee.code")
    date = serializers.DateField(source="session.date")
    start_time = serializers.TimeField(source="session.start_time")
    position = serializers.IntegerField()


class MemberOutput(serializers.Serializer):
    organisation = serializers.CharField(source="organisation.code")
    name = serializers.CharField(source="organisation.name")
    reason = serializers.CharField()
    permanent = serializers.BooleanField()
    consultative = serializers.BooleanField()
    file_sent_on = serializers.DateField(source="member.file_sent_on", allow_null=True)


class AgendaItemOutput(serializers.Serializer):
    position = serializers.IntegerField()
    dossier = serializers.IntegerField(source="dossier.pk")
    reference = serializers.CharField(source="dossier.reference")
    title = serializers.CharField(source="dossier.title")
    procedure = serializers.CharField(source="dossier.procedure.code")
    classification = serializers.CharField(source="dossier.classification")
    due_on = serializers.DateField(allow_null=True)
    members = MemberOutput(many=True)


class IssuedDocumentOutput(serializers.Serializer):
    kind = serializers.CharField()
    sha256 = serializers.CharField()
    verification_code = serializers.CharField()
    created_at = serializers.DateTimeField()


def _committee(code: str) -> Committee:
    committee = Committee.objects.select_related("commune").filter(code=code).first()
    if committee is None:
        raise NotFound(_("No committee with code %(code)s.") % {"code": code})
    return committee


def _session(session_id: int) -> Session:
    session = Session.objects.select_related("committee__commune").filter(pk=session_id).first()
    if session is None:
        raise NotFound(_("No session with id %(id)s.") % {"id": session_id})
    return session


def _require_staff(user) -> None:
    if not user_is_staff_role(user):
        raise PermissionDenied(_("Only staff of the administration may see agendas."))


class CommitteeListApi(PermitsApi):
    @extend_schema(
        operation_id="committee_list",
        tags=COMMITTEES,
        summary="List the active committees",
        description="Each committee with its territory, kind, meeting days, capacity and time per dossier.",
        responses={200: CommitteeOutput(many=True), **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        committees = Committee.objects.filter(active=True).select_related("commune")
        return Response(CommitteeOutput(committees, many=True).data)


class CommitteeSessionListApi(PermitsApi):
    class SessionQuery(serializers.Serializer):
        start = serializers.DateField(required=False)
        end = serializers.DateField(required=False)

    @extend_schema(
        operation_id="committee_session_list",
        tags=COMMITTEES,
        summary="List a committee's sessions with their free places",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: today)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (default: no limit)."),
        ],
        responses={200: SessionOutput(many=True), **ERRORS},
    )
    def get(self, request: Request, code: str) -> Response:
        committee = _committee(code)
        given = {"start": request.query_params.get("from"), "end": request.query_params.get("to")}
        query = self.SessionQuery(data={key: value for key, value in given.items() if value})
        query.is_valid(raise_exception=True)
        start = query.validated_data.get("start") or timezone.localdate()
        sessions = sessions_with_places(committee=committee).filter(date__gte=start).select_related("committee")
        if "end" in query.validated_data:
            sessions = sessions.filter(date__lte=query.validated_data["end"])
        return Response(SessionOutput(sessions, many=True).data)


class DossierBookingApi(PermitsApi):
    class BookingInput(serializers.Serializer):
        session = serializers.IntegerField(help_text="The id of a session of the dossier's committee.")

    @extend_schema(
        operation_id="dossier_booking_get",
        tags=COMMITTEES,
        summary="The dossier's committee slot",
        responses={200: BookingOutput, **READ_ERRORS},
    )
    def get(self, request: Request, dossier_id: int) -> Response:
        dossier = _visible_dossier(request, dossier_id)
        booking = booking_active(dossier=dossier)
        if booking is None:
            raise NotFound(_("This dossier has no committee slot."))
        return Response(BookingOutput(booking).data)

    @extend_schema(
        operation_id="dossier_booking_set",
        tags=COMMITTEES,
        summary="Book a committee slot, or move the booking to another session",
        description=(
            "An accepted (or resubmitted) dossier takes the lowest free place of the session and becomes "
            "scheduled; a scheduled dossier moves its booking. 409 when the session is full, 400 when the "
            "session is not of the dossier's committee, past or no longer planned; 403 for anyone but the "
            "dossier's filers and the desk."
        ),
        request=BookingInput,
        responses={200: BookingOutput, 201: BookingOutput, 409: ERRORS[400], **ERRORS},
    )
    def post(self, request: Request, dossier_id: int) -> Response:
        dossier = _visible_dossier(request, dossier_id)
        payload = self.BookingInput(data=request.data)
        payload.is_valid(raise_exception=True)
        session = _session(payload.validated_data["session"])
        if dossier.status == Status.SCHEDULED:
            booking = slot_move(dossier=dossier, session=session, actor=request.user)
            return Response(BookingOutput(booking).data)
        booking = slot_book(dossier=dossier, session=session, actor=request.user)
        return Response(BookingOutput(booking).data, status=201)

    @extend_schema(
        operation_id="dossier_booking_cancel",
        tags=COMMITTEES,
        summary="Cancel the committee slot (first review round only)",
        responses={204: None, **ERRORS},
    )
    def delete(self, request: Request, dossier_id: int) -> Response:
        dossier = _visible_dossier(request, dossier_id)
        slot_cancel(dossier=dossier, actor=request.user)
        return Response(status=204)


class DossierMembersApi(PermitsApi):
    class InviteeInput(serializers.Serializer):
        organisation = serializers.SlugRelatedField(slug_field="code", queryset=Organisation.objects.all())
        reason = serializers.CharField(max_length=300)

    @extend_schema(
        operation_id="dossier_member_list",
        tags=COMMITTEES,
        summary="The organisations selected for the dossier, each with its reason",
        responses={200: MemberOutput(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, dossier_id: int) -> Response:
        dossier = _visible_dossier(request, dossier_id)
        return Response(MemberOutput(dossier_member_lines(dossier=dossier), many=True).data)

    @extend_schema(
        operation_id="dossier_member_invite",
        tags=COMMITTEES,
        summary="Invite a consultative organisation (desk)",
        request=InviteeInput,
        responses={201: MemberOutput(many=True), **ERRORS},
    )
    def post(self, request: Request, dossier_id: int) -> Response:
        dossier = _visible_dossier(request, dossier_id)
        _require_desk(request.user)
        payload = self.InviteeInput(data=request.data)
        payload.is_valid(raise_exception=True)
        invitee_add(dossier=dossier, actor=request.user, **payload.validated_data)
        return Response(MemberOutput(dossier_member_lines(dossier=dossier), many=True).data, status=201)


class SessionAgendaApi(PermitsApi):
    @extend_schema(
        operation_id="session_agenda",
        tags=COMMITTEES,
        summary="The session's agenda: booked dossiers by legal deadline, with their members (staff)",
        responses={200: AgendaItemOutput(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, session_id: int) -> Response:
        _require_staff(request.user)
        session = _session(session_id)
        return Response(AgendaItemOutput(agenda_build(session=session), many=True).data)


class SessionAgendaPdfApi(PermitsApi):
    content_negotiation_class = AnyContentNegotiation

    @extend_schema(
        operation_id="session_agenda_pdf",
        tags=COMMITTEES,
        summary="The session's agenda as PDF, in French and Arabic (staff)",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **READ_ERRORS},
    )
    def get(self, request: Request, session_id: int) -> HttpResponse:
        _require_staff(request.user)
        session = _session(session_id)
        response = HttpResponse(agenda_pdf(session=session), content_type="application/pdf")
        filename = f"agenda-{session.committee.code}-{session.date.isoformat()}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class SessionAgendaSendApi(PermitsApi):
    @extend_schema(
        operation_id="session_agenda_send",
        tags=COMMITTEES,
        summary="Issue the agenda and notify every selected member (desk)",
        request=None,
        responses={201: IssuedDocumentOutput, **ERRORS},
    )
    def post(self, request: Request, session_id: int) -> Response:
        _require_desk(request.user)
        session = _session(session_id)
        document = agenda_send(session=session, actor=request.user)
        return Response(IssuedDocumentOutput(document).data, status=201)
