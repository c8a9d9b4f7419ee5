"""What the portal and the desk views share: access checks, the checklist, the timeline and the clock.

Access follows ``permits.selectors``: a dossier that is not visible to the user answers 404; a page of
a role the user does not hold answers 403 (anonymous users are sent to the sign-in page first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permits.classification import classify
from permits.deadlines import Clock, WorkingCalendar, dossier_clock
from permits.forms import FiguresForm
from permits.models import (
    ChecklistItem,
    Classification,
    Document,
    DocumentKind,
    Dossier,
    DossierEvent,
    Status,
)
from permits.roles import user_has_role
from permits.selectors import dossier_get_visible
from permits.services import UPLOADABLE
from permits.workflow import TRANSITIONS, Transition, is_filer, transitions_available

# Names of the legal steps of ``Procedure.deadlines`` (see ``permits.deadlines.STATUS_STEP``).
STEP_LABELS = {
    "completeness_check": gettext_lazy("Completeness check by the desk"),
    "send_to_members": gettext_lazy("Sending the file to the committee members"),
    "member_opinions": gettext_lazy("Opinions of the committee members"),
    "applicant_changes": gettext_lazy("Your answer to the remarks"),
    "minutes": gettext_lazy("Committee minutes"),
    "notify_decision": gettext_lazy("Signature and notification of the decision"),
}
# How each transition reads on a timeline (what happened, not the button that did it).
EVENT_TITLES = {
    "submit": gettext_lazy("Dossier filed"),
    "accept": gettext_lazy("Accepted as complete by the desk"),
    "declare_inadmissible": gettext_lazy("Declared inadmissible"),
    "schedule": gettext_lazy("Scheduled for a committee"),
    "start_review": gettext_lazy("Review started by the committee"),
    "request_changes": gettext_lazy("Changes requested"),
    "resubmit": gettext_lazy("Revised dossier filed"),
    "give_favourable_opinion": gettext_lazy("Favourable opinion of the committee"),
    "give_unfavourable_opinion": gettext_lazy("Unfavourable opinion of the committee"),
    "prepare_decision": gettext_lazy("Decision sent for signature"),
    "issue": gettext_lazy("Permit signed and issued"),
    "refuse": gettext_lazy("Reasoned refusal signed"),
    "withdraw": gettext_lazy("Dossier withdrawn"),
    "deem_approved": gettext_lazy("Approved tacitly: the legal deadline passed"),
    "lapse": gettext_lazy("Permit lapsed: works did not start in time"),
}
# Extensions offered by the file picker for each detected format (the server checks the content).
FORMAT_EXTENSIONS = {
    "pdf": ".pdf",
    "dxf": ".dxf",
    "dwg": ".dwg",
    "png": ".png",
    "jpeg": ".jpg,.jpeg",
    "tiff": ".tif,.tiff",
    "zip": ".zip",
}


def role_required(*roles: str) -> Callable:
    """Signed-in users holding one of ``roles``; others get 403, anonymous users the sign-in page."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not user_has_role(request.user, *roles):
                raise PermissionDenied(_("This page is for another role."))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def visible_dossier_or_404(request: HttpRequest, dossier_id: int) -> Dossier:
    dossier = dossier_get_visible(user=request.user, dossier_id=dossier_id)
    if dossier is None:
        raise Http404(_("No such dossier."))
    return dossier


def may_file_for(user, dossier: Dossier) -> bool:
    """The filer of the dossier (architect, creator, the applicant's account) or an administrator."""
    return bool(user.is_superuser or is_filer(user, dossier))


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def next_url(request: HttpRequest, default: str) -> str:
    """The ``next`` field of a POST when it points to this site, else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


# --- the checklist ------------------------------------------------------------------------------------


@dataclass
class ChecklistRow:
    item: ChecklistItem
    versions: list[Document]
    error: str = ""
    just_uploaded: bool = False

    @property
    def latest(self) -> Document | None:
        return self.versions[-1] if self.versions else None

    @property
    def main(self) -> bool:
        return self.item.kind == DocumentKind.MAIN

    @property
    def accept(self) -> str:
        return ",".join(FORMAT_EXTENSIONS.get(code, f".{code}") for code in self.item.formats)

    @property
    def formats(self) -> str:
        return ", ".join(code.upper() for code in self.item.formats)


def checklist_rows(
    dossier: Dossier, *, errors: dict[str, str] | None = None, just_uploaded: str = ""
) -> list[ChecklistRow]:
    """Each checklist item of the dossier's procedure with every version filed for it."""
    errors = errors or {}
    versions: dict[str, list[Document]] = {}
    for document in dossier.documents.order_by("item_code", "version"):
        versions.setdefault(document.item_code, []).append(document)
    return [
        ChecklistRow(
            item=item,
            versions=versions.get(item.code, []),
            error=errors.get(item.code, ""),
            just_uploaded=item.code == just_uploaded,
        )
        for item in dossier.procedure.checklist.all()
    ]


def checklist_context(
    request: HttpRequest, dossier: Dossier, *, errors: dict[str, str] | None = None, just_uploaded: str = ""
) -> dict[str, Any]:
    """Everything the ``_checklist.html`` partial needs."""
    rows = checklist_rows(dossier, errors=errors, just_uploaded=just_uploaded)
    main_rows = [row for row in rows if row.main]
    return {
        "dossier": dossier,
        "rows": rows,
        "main_total": len(main_rows),
        "main_present": sum(1 for row in main_rows if row.versions),
        "can_upload": dossier.status in UPLOADABLE and may_file_for(request.user, dossier),
        "checklist_next": request.get_full_path() if request.method == "GET" else request.POST.get("next", ""),
    }


# --- the timeline -------------------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    when: datetime
    title: str
    detail: str
    kind: str
    to_status: str
    actor: str


def _event_title(event: DossierEvent) -> str:
    data = event.data or {}
    if event.kind == "transition":
        action = data.get("action", "")
        if action == "schedule" and data.get("session_date"):
            try:
                when = date_format(date.fromisoformat(data["session_date"]), "j F Y")
            except ValueError:
                when = data["session_date"]
            return _("Scheduled for the committee of %(date)s") % {"date": when}
        if action in EVENT_TITLES:
            return str(EVENT_TITLES[action])
        transition = TRANSITIONS.get(action)
        if transition is not None:
            return str(transition.label)
        return Status(event.to_status).label if event.to_status in Status.values else event.to_status
    if event.kind == "document":
        return _("Document filed: %(name)s (version %(version)s)") % {
            "name": event.message,
            "version": data.get("version", "?"),
        }
    if event.kind == "reclassified":
        labels = dict(Classification.choices)
        return _("Classification changed: %(before)s → %(after)s") % {
            "before": labels.get(data.get("from"), _("none")),
            "after": labels.get(data.get("to"), data.get("to", "")),
        }
    return event.kind.replace("_", " ").capitalize()


def timeline_entries(events: Iterable[DossierEvent], *, with_actors: bool) -> list[TimelineEntry]:
    """The dossier's events as lines to show, newest last; actors' names only for staff."""
    entries = []
    for event in events:
        detail = "" if event.kind == "document" else event.message
        actor = ""
        if with_actors and event.actor is not None:
            actor = event.actor.get_full_name() or event.actor.get_username()
        entries.append(TimelineEntry(event.created_at, _event_title(event), detail, event.kind, event.to_status, actor))
    return entries


def remarks_to_answer(dossier: Dossier) -> DossierEvent | None:
    """The request for changes the applicant has to answer (its reason is the remarks' text)."""
    if dossier.status != Status.CHANGES_REQUESTED:
        return None
    return dossier.events.filter(to_status=Status.CHANGES_REQUESTED).order_by("-created_at", "-id").first()


# --- the clock ----------------------------------------------------------------------------------------


@dataclass
class ClockView:
    clock: Clock
    step_label: str

    @property
    def late_days(self) -> int:
        return -self.clock.step_remaining_days if (self.clock.step_remaining_days or 0) < 0 else 0


def clock_view(dossier: Dossier, *, today: date | None = None, calendar: WorkingCalendar | None = None) -> ClockView:
    clock = dossier_clock(dossier=dossier, today=today, calendar=calendar)
    return ClockView(clock, str(STEP_LABELS.get(clock.step or "", clock.step or "")))


# --- actions ------------------------------------------------------------------------------------------


@dataclass
class ActionButton:
    transition: Transition
    url: str

    @property
    def name(self) -> str:
        return self.transition.name

    @property
    def needs_date(self) -> bool:
        return self.transition.name == "schedule"

    @property
    def needs_reason(self) -> bool:
        return self.transition.reason_required

    @property
    def dangerous(self) -> bool:
        return self.transition.name in {"withdraw", "declare_inadmissible", "refuse", "give_unfavourable_opinion"}


def action_buttons(dossier: Dossier, user, *, exclude: Iterable[str] = ()) -> list[ActionButton]:
    """The transitions this user's roles allow from the dossier's status (guards are checked on POST)."""
    skipped = set(exclude)
    return [
        ActionButton(t, reverse("permits:dossier_action", args=[dossier.pk, t.name]))
        for t in transitions_available(dossier=dossier, actor=user)
        if t.name not in skipped
    ]


def figure_rows(dossier) -> list[tuple[str, object]]:
    """The declared figures as ``(label, value)`` in the order of the procedure's form."""
    form = FiguresForm(procedure=dossier.procedure)
    rows = []
    for spec in form.specs:
        if spec["name"] in dossier.figures:
            field = form.fields[spec["name"]]
            value = dossier.figures[spec["name"]]
            if spec.get("type") == "bool":
                value = _("Yes") if value else _("No")
            elif spec.get("type") == "choice":
                value = dict(field.choices).get(str(value), value)
            rows.append((field.label, value))
    return rows


def classification_reason(dossier: Dossier) -> str:
    """Why the dossier has its class, in the reader's language when the rules still say the same."""
    if not dossier.classification or dossier.classification_overridden or not dossier.procedure.classifiable:
        return dossier.classification_rule
    result = classify(figures=dossier.figures)
    return result.reason if result.classification == dossier.classification else dossier.classification_rule
