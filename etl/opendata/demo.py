"""A six-month demo history for the open-data portal: past dossiers walked through the real workflow.

The twenty demo dossiers of :mod:`permits.demo` show every status but too few decisions to draw a
chart. :func:`demo_history_build` files sixty more (``TAAMIR_DEMO_HISTORY_DOSSIERS``) on the demo
commune, spread over the last six months, for the demo applicants, and walks each one with
:func:`permits.workflow.dossier_transition` (``today=`` backdates every transition) through
admissibility, the committee — each selected institution gives its opinion through
:func:`permits.opinions.opinion_record` — changes requested and resubmission, to a permit, a refusal,
an inadmissibility, a withdrawal or a tacit approval; the most recent ones are still on their way.
The timeline events and opinions of these historic dossiers carry the day they happened (they stand
for a history that was recorded when it happened), which the indicators read. The dates come from a
seeded generator: two builds give the same history.

Then the indicators of every day since the first filing are computed and the datasets published.
A second run creates nothing: a historic dossier is recognised by its title.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from geo.models import AdminArea, Parcel
from permits.deadlines import WorkingCalendar
from permits.demo import (
    APPLICANTS,
    ARCHITECT,
    DEMO_COMMUNE_CODE,
    DESK,
    OUTBOX_SMS_BACKEND,
    PRESIDENT,
    SIGNATORY,
    DemoDossiersError,
    demo_pdf,
)
from permits.issuing import decision_generate
from permits.models import (
    ChecklistVerdict,
    DocumentKind,
    Dossier,
    DossierEvent,
    DossierMember,
    Opinion,
    Procedure,
    Verdict,
)
from permits.opinions import opinion_record
from permits.services import completeness_review_record, document_upload, dossier_save_draft
from permits.workflow import SYSTEM, dossier_transition

HISTORY_TITLE = "Dossier historique"
HISTORY_SEED = 20240601
HISTORY_DOSSIERS = 60
HISTORY_DAYS = 182
REASON = "Motifs détaillés au procès-verbal de la commission."


class DemoHistoryError(DemoDossiersError):
    """The demo history cannot be built (the demo commune, accounts or procedures are missing)."""


@dataclass(frozen=True)
class DemoHistorySummary:
    created: int
    existing: int
    statuses: dict[str, int]
    indicator_days: int = 0
    datasets: int = 0

    @property
    def line(self) -> str:
        """One line for ``seed_demo``."""
        text = f"  {'history':<16}{self.created + self.existing:>6}  ({self.created} new)"
        if self.indicator_days:
            text += f"; indicators of {self.indicator_days} days, {self.datasets} dataset files published"
        return text


def _figures(procedure: str, rng: random.Random) -> dict[str, Any]:
    if procedure == "refection":
        area = rng.choice([80, 120, 160, 240, 320])
        return {"repair_nature": "facade", "works_area_m2": area, "structural_works": False,
                "estimated_cost_mad": area * 350}  # fmt: skip
    if procedure == "occupation-domaine-public":
        return {"occupation_type": "terrace", "area_m2": rng.choice([12, 18, 24, 36]), "duration_months": 12}
    large = rng.random() < 0.3
    floors = rng.choice([4, 5, 6]) if large else rng.choice([1, 2, 3])
    dwellings = rng.choice([8, 12, 16, 24, 32]) if large else rng.choice([1, 1, 2])
    area = dwellings * rng.choice([85, 95, 110]) if large else rng.choice([120, 150, 180, 210, 260, 320])
    return {
        "floors": floors,
        "height_m": round(floors * 3.1 + 0.5, 1),
        "built_area_m2": area,
        "dwellings": dwellings,
        "use": "housing",
        "public_project": False,
        "open_to_public": False,
        "estimated_cost_mad": area * 3200,
        "in_approved_subdivision": not large,
    }


class _History:
    """Walks one historic dossier day by day; stops where the real today is reached."""

    def __init__(self, *, dossier: Dossier, day: date, rng: random.Random, accounts, calendar, today: date):
        self.dossier, self.day, self.rng, self.accounts = dossier, day, rng, accounts
        self.calendar, self.today = calendar, today

    def later(self, low: int, high: int) -> bool:
        """Move ``low..high`` working days on; False (and stay) when that is after the real today."""
        day = self.calendar.add_working_days(self.day, self.rng.randint(low, high))
        if day > self.today:
            return False
        self.day = day
        return True

    def move(self, action: str, account: str | None, **kwargs: Any) -> None:
        last = DossierEvent.objects.filter(dossier=self.dossier).order_by("-id").values_list("id", flat=True).first()
        actor = self.accounts[account] if account else SYSTEM
        self.dossier = dossier_transition(dossier=self.dossier, action=action, actor=actor, today=self.day, **kwargs)
        moment = timezone.make_aware(datetime.combine(self.day, time(10, self.rng.randint(0, 59))))
        DossierEvent.objects.filter(dossier=self.dossier, id__gt=last or 0).update(created_at=moment)

    def review(self, *, refuse_one: bool = False) -> None:
        items = list(self.dossier.procedure.checklist.filter(kind=DocumentKind.MAIN))
        for index, item in enumerate(items):
            refused = refuse_one and index == len(items) - 1
            completeness_review_record(
                dossier=self.dossier,
                item=item,
                verdict=ChecklistVerdict.NON_COMPLIANT if refused else ChecklistVerdict.PRESENT,
                reason="Pièce illisible ou périmée." if refused else "",
                actor=self.accounts[DESK],
            )

    def committee(self, *, verdict_for_commune: str = Verdict.FAVOURABLE) -> bool:
        """Schedule, open the review and collect every institution's opinion; False if today is reached."""
        start = self.day
        if not self.later(4, 12):
            return False
        session_day = self.day
        self.day = start
        self.move("schedule", DESK, data={"session_date": session_day})
        self.day = session_day
        self.move("start_review", PRESIDENT)
        for member in DossierMember.objects.filter(dossier=self.dossier).select_related("organisation"):
            author = member.organisation.members.order_by("username").first()
            if author is None:
                continue
            verdict = verdict_for_commune if member.organisation.kind == "commune" else Verdict.FAVOURABLE
            opinion = opinion_record(
                dossier=self.dossier,
                organisation=member.organisation,
                author=author,
                verdict=verdict,
                remark_items=[REASON] if verdict != Verdict.FAVOURABLE else [],
            )
            # Institutions answer in parallel, each on its own day before the session.
            given = self.calendar.add_working_days(start, self.rng.randint(1, 3 + 2 * (member.permanent is False)))
            given = min(given, session_day)
            moment = timezone.make_aware(datetime.combine(given, time(11, 0)))
            Opinion.objects.filter(pk=opinion.pk).update(created_at=moment)
        return True

    def decide(self, action: str) -> None:
        self.move("prepare_decision", DESK)
        if not self.later(1, 4):
            return
        decision_generate(dossier=self.dossier, actor=self.accounts[SIGNATORY])
        self.move(action, SIGNATORY, **({"reason": REASON} if action == "refuse" else {}))

    def run(self, fate: str) -> Dossier:
        self.move("submit", ARCHITECT)
        if not self.later(0, 3):
            return self.dossier
        if fate == "inadmissible":
            self.review(refuse_one=True)
            self.move("declare_inadmissible", DESK, reason="Pièce principale non conforme.")
            return self.dossier
        self.review()
        self.move("accept", DESK)
        if fate == "withdrawn":
            if self.later(2, 8):
                self.move("withdraw", ARCHITECT)
            return self.dossier
        if fate == "deemed_approved":
            accepted = self.day
            if not self.committee():
                return self.dossier
            tacit = accepted + timedelta(days=(self.dossier.procedure.tacit_approval_days or 60) + 1)
            if tacit <= self.today:
                self.day = tacit
                self.move("deem_approved", None)
            return self.dossier
        if fate == "changes":
            if not self.committee(verdict_for_commune=Verdict.UNFAVOURABLE):
                return self.dossier
            self.move("request_changes", PRESIDENT, reason="Recul sur voie non respecté : reprendre les façades.")
            if not self.later(4, 20):
                return self.dossier
            plans = self.dossier.procedure.checklist.filter(kind=DocumentKind.MAIN).order_by("position").first()
            _upload(self.dossier, plans.code, self.accounts[ARCHITECT], version="2")
            self.move("resubmit", ARCHITECT)
        if not self.committee():
            return self.dossier
        outcome = "refuse" if fate == "refused" else "issue"
        self.move("give_unfavourable_opinion" if fate == "refused" else "give_favourable_opinion", PRESIDENT,
                  **({"reason": REASON} if fate == "refused" else {}))  # fmt: skip
        if self.later(1, 6):
            self.decide(outcome)
        return self.dossier


def _upload(dossier: Dossier, code: str, actor, *, version: str = "1") -> None:
    content = demo_pdf(title=code, lines=[f"Dossier : {dossier.title}", f"Version {version}", "Document fictif."])
    document_upload(
        dossier=dossier, item_code=code, uploaded_file=SimpleUploadedFile(f"{code}.pdf", content), actor=actor
    )


FATES = (
    ["issued"] * 52 + ["changes"] * 22 + ["refused"] * 10 + ["inadmissible"] * 9 + ["withdrawn"] * 4
    + ["deemed_approved"] * 3
)  # fmt: skip
PROCEDURES = ["permis-construire"] * 8 + ["refection", "occupation-domaine-public"]


def demo_history_build(
    *, commune_code: str = DEMO_COMMUNE_CODE, count: int = HISTORY_DOSSIERS, days: int = HISTORY_DAYS
) -> DemoHistorySummary:
    """File whatever historic dossier is missing and walk it; existing ones are left alone."""
    commune = AdminArea.objects.filter(code=commune_code).first()
    if commune is None:
        raise DemoHistoryError(f"the demo commune {commune_code} is missing: run `manage.py seed_demo`")
    usernames = {ARCHITECT, DESK, PRESIDENT, SIGNATORY}
    accounts = {user.username: user for user in get_user_model().objects.filter(username__in=usernames)}
    if usernames - set(accounts):
        raise DemoHistoryError(f"demo accounts missing: {', '.join(sorted(usernames - set(accounts)))}")
    procedures = {p.code: p for p in Procedure.objects.filter(code__in=set(PROCEDURES))}
    if set(PROCEDURES) - set(procedures):
        raise DemoHistoryError("the procedure catalogue is not loaded: run `manage.py seed_demo`")
    parcels = list(Parcel.objects.filter(commune=commune).order_by("reference_key").values_list("pk", flat=True))
    if len(parcels) < count:
        raise DemoHistoryError(f"the demo commune has {len(parcels)} parcels, fewer than {count}")
    rng = random.Random(HISTORY_SEED)
    today = timezone.localdate()
    calendar = WorkingCalendar()
    plans = []
    for number in range(1, count + 1):
        # Filing days spread over the period, oldest first, so that references follow the filing dates.
        offset = days - round((number - 1) * days / count) - rng.randint(0, 1)
        plans.append((number, max(offset, 1), rng.choice(FATES), rng.choice(PROCEDURES), rng.choice(list(APPLICANTS))))
    existing = set(
        Dossier.objects.filter(commune=commune, title__startswith=HISTORY_TITLE).values_list("title", flat=True)
    )
    created = 0
    with transaction.atomic():
        for number, offset, fate, code, applicant_key in plans:
            title = f"{HISTORY_TITLE} {number:03d}"
            step_rng = random.Random(HISTORY_SEED + number)
            if title in existing:
                continue
            day = today - timedelta(days=offset)
            while not calendar.is_working_day(day):
                day += timedelta(days=1)
            if day > today:
                continue
            data = APPLICANTS[applicant_key].data
            if settings.TAAMIR_SMS_BACKEND != OUTBOX_SMS_BACKEND:
                data = replace(data, phone="")
            procedure = procedures[code]
            dossier = dossier_save_draft(
                actor=accounts[ARCHITECT],
                procedure=procedure,
                applicant=data,
                parcels=list(Parcel.objects.filter(pk=parcels[(number * 37) % len(parcels)])),
                title=title,
                figures=_figures(code, step_rng),
            )
            for item in procedure.checklist.filter(kind=DocumentKind.MAIN).order_by("position"):
                _upload(dossier, item.code, accounts[ARCHITECT])
            _History(dossier=dossier, day=day, rng=step_rng, accounts=accounts, calendar=calendar, today=today).run(
                fate
            )
            created += 1
    statuses: dict[str, int] = {}
    for status in Dossier.objects.filter(commune=commune, title__startswith=HISTORY_TITLE).values_list(
        "status", flat=True
    ):
        statuses[status] = statuses.get(status, 0) + 1
    return DemoHistorySummary(created=created, existing=len(existing), statuses=statuses)


def demo_history_seed(*, commune_code: str = DEMO_COMMUNE_CODE) -> DemoHistorySummary:
    """``seed_demo``'s step: the history, then (when it changed or was never computed) indicators and datasets."""
    from etl.models import DailyIndicator
    from etl.opendata.datasets import datasets_publish
    from etl.opendata.indicators import first_filing_day, indicators_compute_range

    count = settings.TAAMIR_DEMO_HISTORY_DOSSIERS
    if count <= 0:
        return DemoHistorySummary(created=0, existing=0, statuses={})
    summary = demo_history_build(commune_code=commune_code, count=count)
    if not summary.created and DailyIndicator.objects.exists():
        return summary
    start = first_filing_day()
    if start is None:
        return summary
    run = indicators_compute_range(start=start, end=timezone.localdate())
    published = datasets_publish()
    return DemoHistorySummary(
        created=summary.created,
        existing=summary.existing,
        statuses=summary.statuses,
        indicator_days=len(run.days),
        datasets=len(published),
    )
