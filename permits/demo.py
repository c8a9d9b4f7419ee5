"""Demo dossiers on the demo commune: at least one in every status, each reached through the workflow.

:func:`demo_dossiers_build` files dossiers as ``demo.architect`` for a handful of applicants (among them
``demo.applicant``'s own account, so that account sees its dossiers), uploads small real documents
(one-page PDFs and PNG photos written here, byte by byte) and walks each dossier to its status with
:func:`permits.workflow.dossier_transition` — the desk, the committee president and the signatory act
with their demo accounts, the system (``actor=None``) deems approved and lapses. No status or date is
written directly: the past is reached by passing ``today=`` to the transitions, oldest dossier first,
so that references follow the filing dates. The timeline events and audit records themselves carry the
moment the demo was built (they are the legal record of what happened when).

Everything is written in one transaction, serialised by an advisory lock; a dossier is recognised by
its title among the demo architect's dossiers of the demo commune, so a second run creates nothing.
Applicants get a mobile number only while SMS go to the outbox backend, so a demo seeded on a machine
wired to a real SMS gateway never texts an invented number.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone

from geo.models import AdminArea, Parcel
from permits.deadlines import WorkingCalendar
from permits.models import (
    Applicant,
    ChecklistVerdict,
    Document,
    DocumentKind,
    Dossier,
    Procedure,
    ReferenceCounter,
    Status,
)
from permits.services import ApplicantData, completeness_review_record, document_upload, dossier_save_draft
from permits.workflow import SYSTEM, dossier_transition

# The demo commune and accounts written by ``etl.demo`` (``seed_demo``); repeated here so that permits
# does not depend on etl (a test checks that both agree).
DEMO_COMMUNE_CODE = "DEMO-001"
ARCHITECT, APPLICANT, DESK, PRESIDENT, SIGNATORY = (
    "demo.architect",
    "demo.applicant",
    "demo.desk",
    "demo.president",
    "demo.signatory",
)
DEMO_EMAIL_DOMAIN = "taamir.example"
OUTBOX_SMS_BACKEND = "permits.sms.OutboxBackend"
# Serialises two concurrent runs (an arbitrary constant for pg_advisory_xact_lock).
_ADVISORY_LOCK_KEY = 0x7A4D_0003


class DemoDossiersError(Exception):
    """The demo dossiers cannot be built (the demo commune or its accounts are missing)."""


# --- tiny real files -------------------------------------------------------------------------------


def _pdf_text(value: str) -> bytes:
    """A PDF literal string in WinAnsi (cp1252), with the three special characters escaped."""
    raw = value.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def demo_pdf(*, title: str, lines: list[str], drawing: bool = False) -> bytes:
    """A valid one-page A4 PDF (Helvetica text, optional plan-like drawing) with a correct xref table."""
    content = [b"0.6 w 36 36 523 770 re S", b"BT /F1 16 Tf 56 770 Td " + _pdf_text(title) + b" Tj ET"]
    y = 740
    for line in lines:
        content.append(b"BT /F1 11 Tf 56 %d Td " % y + _pdf_text(line) + b" Tj ET")
        y -= 18
    if drawing:
        # A footprint with its setbacks and a north arrow: enough to look like a plan.
        content += [
            b"1.5 w 150 200 300 220 re S",
            b"0.5 w [4 3] 0 d 120 170 360 280 re S [] 0 d",
            b"200 200 m 200 420 l S 300 200 m 300 420 l S",
            b"500 470 m 500 520 l 490 500 l S 500 520 m 510 500 l S",
            b"BT /F1 10 Tf 496 526 Td (N) Tj ET",
        ]
    stream = b"\n".join(content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Title " + _pdf_text(title) + b" /Producer (Taamir demo) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def demo_png(*, seed: int, width: int = 48, height: int = 32) -> bytes:
    """A valid small RGB PNG: a sky-and-ground picture whose colours vary with ``seed``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            if y < height // 2:
                rows += bytes((120 + y * 3, 170 + y * 2, 230))
            else:
                rows += bytes(((160 + seed * 37 + x) % 256, (130 + seed * 11) % 256, (90 + y) % 256))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


# --- what the demo files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoApplicant:
    """An applicant of the demo; ``account`` links the record to a user who then sees the dossiers."""

    data: ApplicantData
    account: str | None = None


APPLICANTS: dict[str, DemoApplicant] = {
    "yasmine": DemoApplicant(
        ApplicantData(
            first_name="Yasmine", last_name="El Amrani", national_id="BE482913",
            email=f"{APPLICANT}@{DEMO_EMAIL_DOMAIN}", phone="+212612000001",
            address="12, rue des Orangers, Casablanca", language="fr",
        ),
        account=APPLICANT,
    ),
    "anfa": DemoApplicant(
        ApplicantData(
            kind="company", company_name="Anfa Immobilier SARL", company_register="RC 412587 Casablanca",
            email=f"anfa.immobilier@{DEMO_EMAIL_DOMAIN}", phone="+212522000002",
            address="45, boulevard d'Anfa, Casablanca", language="fr",
        )
    ),
    "ouazzani": DemoApplicant(
        ApplicantData(
            first_name="Mohamed", last_name="Ouazzani", national_id="BK339201",
            email=f"m.ouazzani@{DEMO_EMAIL_DOMAIN}", phone="+212661000003",
            address="Derb Sidi Maarouf, rue 7, n° 18, Casablanca", language="ar",
        )
    ),
    "benkirane": DemoApplicant(
        ApplicantData(
            first_name="Leila", last_name="Benkirane", national_id="BH120554",
            email=f"l.benkirane@{DEMO_EMAIL_DOMAIN}", phone="+212662000004",
            address="8, avenue Hassan II, Casablanca", language="en",
        )
    ),
    "atlas": DemoApplicant(
        ApplicantData(
            kind="company", company_name="Atlas Bois et Menuiserie SARL", company_register="RC 298114 Casablanca",
            email=f"atlas.bois@{DEMO_EMAIL_DOMAIN}", phone="+212522000005",
            address="Zone industrielle, lot 21, Casablanca", language="fr",
        )
    ),
    "manar": DemoApplicant(
        ApplicantData(
            first_name="Rachid", last_name="Lahlou", national_id="BJ774120",
            email=f"cafe.almanar@{DEMO_EMAIL_DOMAIN}", phone="+212663000006",
            address="Café Al Manar, avenue centrale, Casablanca", language="ar",
        )
    ),
    "medias": DemoApplicant(
        ApplicantData(
            kind="company", company_name="Médias Affichage Maroc SA", company_register="RC 188530 Casablanca",
            email=f"medias.affichage@{DEMO_EMAIL_DOMAIN}", phone="+212522000007",
            address="22, rue Ibnou Majid, Casablanca", language="fr",
        )
    ),
    "reseaux": DemoApplicant(
        ApplicantData(
            kind="company", company_name="Réseaux Fibre du Maroc SA", company_register="RC 501266 Casablanca",
            email=f"travaux@reseaux-fibre.{DEMO_EMAIL_DOMAIN}", phone="+212522000008",
            address="Technopark, route de Nouaceur, Casablanca", language="fr",
        )
    ),
    "naciri": DemoApplicant(
        ApplicantData(
            first_name="Khadija", last_name="Naciri", national_id="BE905517",
            email=f"k.naciri@{DEMO_EMAIL_DOMAIN}", phone="+212664000009",
            address="Hay Al Farah, rue 12, Casablanca", language="ar",
        )
    ),
}  # fmt: skip


def _house(floors: int, height: float, area: float, dwellings: int = 1, **more: Any) -> dict[str, Any]:
    figures = {
        "floors": floors,
        "height_m": height,
        "built_area_m2": area,
        "dwellings": dwellings,
        "use": "housing",
        "public_project": False,
        "open_to_public": False,
        "estimated_cost_mad": round(area * 3200),
        "in_approved_subdivision": True,
    }
    return {**figures, **more}


@dataclass(frozen=True)
class DemoDossier:
    """One demo dossier: what is asked, by whom, where (district of the demo plan), and how far it goes.

    ``filed_days_ago`` is when it was submitted (calendar days before the build); ``parcel`` picks the
    n-th parcel of the district by land-title reference, ``parcels`` how many neighbours it spans.
    """

    title: str
    procedure: str
    status: str
    applicant: str
    district: str
    parcel: int
    figures: dict[str, Any]
    filed_days_ago: int
    parcels: int = 1
    reason: str = ""


CHANGES_REASON = (
    "Recul de 5 m sur la voie non respecté en façade nord ; fournir des plans de façades et un plan de masse "
    "cotés conformes au règlement de la zone D."
)
DOSSIERS: tuple[DemoDossier, ...] = (
    DemoDossier("Maison R+1 — travaux non commencés", "permis-construire", Status.LAPSED, "ouazzani", "Z01", 4,
                _house(2, 7.5, 190), filed_days_ago=470),
    DemoDossier("Ravalement de façade et étanchéité", "refection", Status.DEEMED_APPROVED, "benkirane", "Z08", 3,
                {"repair_nature": "facade", "works_area_m2": 240, "structural_works": False,
                 "estimated_cost_mad": 85000}, filed_days_ago=75),
    DemoDossier("Entrepôt commercial de 900 m²", "permis-construire", Status.REFUSED, "benkirane", "Z03", 2,
                {**_house(1, 9.0, 900, dwellings=0), "use": "commercial", "in_approved_subdivision": False},
                filed_days_ago=90,
                reason="Usage commercial de 900 m² non admis en zone industrielle par le plan d'aménagement "
                       "(règlement de la zone I, article 1)."),
    DemoDossier("Maison R+1 — lot 7", "permis-construire", Status.ISSUED, "yasmine", "Z07", 7,
                _house(2, 8.0, 210), filed_days_ago=80),
    DemoDossier("Tranchée de fibre optique, avenue centrale", "reseaux-telecoms", Status.ISSUED, "reseaux", "Z05", 1,
                {"network_type": "fibre", "operator": "Réseaux Fibre du Maroc", "trench_length_m": 640,
                 "on_public_domain": True, "works_duration_days": 45}, filed_days_ago=65),
    DemoDossier("Immeuble R+3 de 6 logements", "permis-construire", Status.DECISION_SIGNING, "ouazzani", "Z02", 5,
                _house(4, 14.5, 780, dwellings=6), filed_days_ago=55),
    DemoDossier("Panneau publicitaire 4 × 3 m sur pied", "publicite", Status.UNFAVOURABLE, "medias", "Z08", 9,
                {"device_type": "billboard", "face_area_m2": 12, "faces": 2, "height_m": 6, "illuminated": True,
                 "on_public_domain": False, "duration_months": 36}, filed_days_ago=50,
                reason="Dispositif dans le périmètre de protection du noyau ancien : la publicité lumineuse y est "
                       "interdite par le règlement du périmètre."),
    DemoDossier("Atelier de menuiserie (3e catégorie)", "etablissement-classe-3", Status.FAVOURABLE, "atlas", "Z03", 6,
                {"activity": "Menuiserie bois et aluminium", "nomenclature_item": "Travail mécanique du bois",
                 "premises_area_m2": 420, "workers": 9, "hazardous_materials": False}, filed_days_ago=45),
    DemoDossier("Villa R+1 avec piscine", "permis-construire", Status.RESUBMITTED, "benkirane", "Z04", 11,
                _house(2, 8.2, 320), filed_days_ago=42, reason=CHANGES_REASON),
    DemoDossier("Maison individuelle R+1", "permis-construire", Status.CHANGES_REQUESTED, "yasmine", "Z04", 15,
                _house(2, 7.8, 240), filed_days_ago=30, reason=CHANGES_REASON),
    DemoDossier("Résidence de 48 logements (R+5)", "permis-construire", Status.UNDER_REVIEW, "anfa", "Z05", 4,
                _house(6, 18.5, 4300, dwellings=48, in_approved_subdivision=False), filed_days_ago=25, parcels=2),
    DemoDossier("Terrasse de café (24 m²)", "occupation-domaine-public", Status.WITHDRAWN, "manar", "Z05", 12,
                {"occupation_type": "terrace", "area_m2": 24, "duration_months": 12}, filed_days_ago=20),
    DemoDossier("Lotissement Al Wifaq (24 lots)", "lotissement", Status.ACCEPTED, "anfa", "Z09", 1,
                {"land_area_m2": 9800, "lots": 24, "subdivision_use": "villas", "green_space_m2": 1100,
                 "public_project": False, "estimated_cost_mad": 6200000}, filed_days_ago=12, parcels=2),
    DemoDossier("Surélévation d'un étage (R+2)", "permis-construire", Status.SCHEDULED, "yasmine", "Z07", 13,
                _house(3, 10.5, 300), filed_days_ago=9),
    DemoDossier("Immeuble R+4 de 16 logements", "permis-construire", Status.ACCEPTED, "anfa", "Z08", 14,
                _house(5, 15.5, 1450, dwellings=16), filed_days_ago=6),
    DemoDossier("Démolition d'une maison menaçant ruine", "demolition", Status.INADMISSIBLE, "benkirane", "Z07", 21,
                {"floors": 2, "height_m": 7, "built_area_m2": 160, "demolition_reason": "ruin",
                 "adjoining_buildings": True, "estimated_cost_mad": 60000}, filed_days_ago=5,
                reason="Pièce principale non conforme : le certificat de propriété date de plus de trois mois."),
    DemoDossier("Maison R+2 avec commerce au rez-de-chaussée", "permis-construire", Status.SUBMITTED, "ouazzani",
                "Z01", 9, {**_house(3, 11.0, 320, dwellings=2), "use": "mixed"}, filed_days_ago=2),
    DemoDossier("Atelier de couture à domicile", "declaration-auto-entrepreneur", Status.SUBMITTED, "naciri", "Z01", 15,
                {"activity": "Couture et retouches", "ae_number": "AE-2024-118834", "at_home": True},
                filed_days_ago=1),
    DemoDossier("Extension d'une villa (R+1)", "permis-construire", Status.DRAFT, "yasmine", "Z04", 19,
                _house(2, 8.0, 150), filed_days_ago=0),
)  # fmt: skip

# The actions that take a dossier to each status, in order (the desk's item checks are "review").
_TO_REVIEW = ["submit", "review", "accept", "schedule", "start_review"]
PATHS: dict[str, list[str]] = {
    Status.DRAFT: [],
    Status.SUBMITTED: ["submit"],
    Status.INADMISSIBLE: ["submit", "review_incomplete", "declare_inadmissible"],
    Status.ACCEPTED: ["submit", "review", "accept"],
    Status.SCHEDULED: ["submit", "review", "accept", "schedule"],
    Status.UNDER_REVIEW: _TO_REVIEW,
    Status.CHANGES_REQUESTED: [*_TO_REVIEW, "request_changes"],
    Status.RESUBMITTED: [*_TO_REVIEW, "request_changes", "revise", "resubmit"],
    Status.FAVOURABLE: [*_TO_REVIEW, "give_favourable_opinion"],
    Status.UNFAVOURABLE: [*_TO_REVIEW, "give_unfavourable_opinion"],
    Status.DECISION_SIGNING: [*_TO_REVIEW, "give_favourable_opinion", "prepare_decision"],
    Status.ISSUED: [*_TO_REVIEW, "give_favourable_opinion", "prepare_decision", "issue"],
    Status.REFUSED: [*_TO_REVIEW, "give_unfavourable_opinion", "prepare_decision", "refuse"],
    Status.WITHDRAWN: ["submit", "review", "accept", "withdraw"],
    Status.LAPSED: [*_TO_REVIEW, "give_favourable_opinion", "prepare_decision", "issue", "lapse"],
    Status.DEEMED_APPROVED: [*_TO_REVIEW, "deem_approved"],
}
# Working days each action comes after the one before it.
_GAPS = {
    "review": 1,
    "review_incomplete": 1,
    "accept": 0,
    "declare_inadmissible": 0,
    "schedule": 1,
    "give_favourable_opinion": 8,
    "give_unfavourable_opinion": 8,
    "request_changes": 8,
    "revise": 6,
    "resubmit": 0,
    "prepare_decision": 3,
    "issue": 2,
    "refuse": 2,
    "withdraw": 3,
}
# Working days between scheduling and the committee session.
_SESSION_AFTER = 5


@dataclass(frozen=True)
class DemoDossiersSummary:
    """What :func:`demo_dossiers_build` found and wrote."""

    created: int
    existing: int
    statuses: dict[str, int]
    catalogue_loaded: bool

    @property
    def changed(self) -> bool:
        """True when this run wrote anything."""
        return bool(self.created or self.catalogue_loaded)


class _Filing:
    """Walks one demo dossier through its path, on backdated working days."""

    def __init__(self, *, spec: DemoDossier, dossier: Dossier, accounts: dict[str, Any], calendar: WorkingCalendar):
        self.spec, self.dossier, self.accounts, self.calendar = spec, dossier, accounts, calendar
        self.real_today = timezone.localdate()
        self.day = self._working_on_or_after(self.real_today - timedelta(days=spec.filed_days_ago))

    def _working_on_or_after(self, day: date) -> date:
        while not self.calendar.is_working_day(day):
            day += timedelta(days=1)
        return min(day, self.real_today)

    def _advance(self, working_days: int) -> None:
        self.day = min(self.calendar.add_working_days(self.day, working_days), self.real_today)

    def _move(self, action: str, actor: Any, **kwargs: Any) -> None:
        self.dossier = dossier_transition(dossier=self.dossier, action=action, actor=actor, today=self.day, **kwargs)

    def run(self, path: list[str]) -> Dossier:
        for action in path:
            self._advance(_GAPS.get(action, 0))
            handler = getattr(self, f"_do_{action}", None)
            if handler is None:
                self._simple(action)
            else:
                handler(action)
        return self.dossier

    def _simple(self, action: str) -> None:
        actor = {
            "submit": self.accounts[ARCHITECT],
            "resubmit": self.accounts[ARCHITECT],
            "withdraw": self.accounts[ARCHITECT],
            "accept": self.accounts[DESK],
            "prepare_decision": self.accounts[DESK],
            "start_review": self.accounts[PRESIDENT],
            "give_favourable_opinion": self.accounts[PRESIDENT],
            "issue": self.accounts[SIGNATORY],
        }[action]
        self._move(action, actor)

    def _reasoned(self, action: str, actor: Any) -> None:
        self._move(action, actor, reason=self.spec.reason or "Avis défavorable motivé au procès-verbal.")

    def _do_review(self, action: str) -> None:
        for item in self.dossier.procedure.checklist.filter(kind=DocumentKind.MAIN):
            completeness_review_record(
                dossier=self.dossier, item=item, verdict=ChecklistVerdict.PRESENT, actor=self.accounts[DESK]
            )

    def _do_review_incomplete(self, action: str) -> None:
        items = list(self.dossier.procedure.checklist.filter(kind=DocumentKind.MAIN))
        refused = next((item for item in items if "propriete" in item.code), items[-1])
        for item in items:
            verdict = ChecklistVerdict.NON_COMPLIANT if item == refused else ChecklistVerdict.PRESENT
            reason = self.spec.reason if item == refused else ""
            completeness_review_record(
                dossier=self.dossier, item=item, verdict=verdict, reason=reason, actor=self.accounts[DESK]
            )

    def _do_declare_inadmissible(self, action: str) -> None:
        self._reasoned(action, self.accounts[DESK])

    def _do_schedule(self, action: str) -> None:
        start = self.day if self.spec.status != Status.SCHEDULED else max(self.day, self.real_today)
        session = self.calendar.add_working_days(start, _SESSION_AFTER)
        self._move(action, self.accounts[DESK], data={"session_date": session})
        # The committee sits on the session day.
        self.day = min(session, self.real_today)

    def _do_request_changes(self, action: str) -> None:
        self._reasoned(action, self.accounts[PRESIDENT])

    def _do_revise(self, action: str) -> None:
        _upload(dossier=self.dossier, item_code=_plans_item(self.dossier.procedure), actor=self.accounts[ARCHITECT],
                version_note="Plans révisés après les remarques de la commission")  # fmt: skip

    def _do_give_unfavourable_opinion(self, action: str) -> None:
        self._reasoned(action, self.accounts[PRESIDENT])

    def _do_refuse(self, action: str) -> None:
        self._reasoned(action, self.accounts[SIGNATORY])

    def _do_deem_approved(self, action: str) -> None:
        # The system acts on the real day, once the tacit-approval date is behind it.
        self.dossier = dossier_transition(dossier=self.dossier, action=action, actor=SYSTEM)

    def _do_lapse(self, action: str) -> None:
        self.dossier = dossier_transition(dossier=self.dossier, action=action, actor=SYSTEM)


def _plans_item(procedure: Procedure) -> str:
    """The checklist item that holds the plans (revised after remarks), else the first main item."""
    codes = list(procedure.checklist.filter(kind=DocumentKind.MAIN).values_list("code", flat=True))
    return next((code for code in codes if code.startswith("plans")), codes[0])


def _upload(*, dossier: Dossier, item_code: str, actor: Any, version_note: str = "") -> None:
    item = dossier.procedure.checklist.get(code=item_code)
    previous = dossier.documents.filter(item_code=item_code).count()
    lines = [
        f"Dossier : {dossier.title}",
        f"Procédure : {dossier.procedure.name_fr}",
        f"Demandeur : {dossier.applicant.display_name}",
        f"Pièce : {item.name_fr}",
        f"Version {previous + 1}" + (f" — {version_note}" if version_note else ""),
        "Document fictif produit pour la démonstration de Taamir.",
    ]
    if "pdf" in item.formats and not (item.kind == DocumentKind.INFORMATION and "png" in item.formats):
        content = demo_pdf(title=item.name_fr, lines=lines, drawing=item.code.startswith("plan"))
        name = f"{item_code}.pdf"
    else:
        content = demo_png(seed=dossier.pk + previous)
        name = f"{item_code}.png"
    document_upload(dossier=dossier, item_code=item_code, uploaded_file=SimpleUploadedFile(name, content), actor=actor)


def _parcels(*, commune: AdminArea, spec: DemoDossier) -> list[Parcel]:
    district = list(
        Parcel.objects.filter(commune=commune, attributes__block__startswith=f"{spec.district}-").order_by(
            "reference_key"
        )[spec.parcel : spec.parcel + spec.parcels]
    )
    if len(district) < spec.parcels:
        raise DemoDossiersError(f"the demo district {spec.district} has too few parcels for “{spec.title}”")
    return district


def _file(*, spec: DemoDossier, commune: AdminArea, accounts: dict[str, Any], calendar: WorkingCalendar) -> Dossier:
    procedure = Procedure.objects.get(code=spec.procedure)
    applicant = APPLICANTS[spec.applicant]
    data = applicant.data
    if settings.TAAMIR_SMS_BACKEND != OUTBOX_SMS_BACKEND:
        data = replace(data, phone="")
    dossier = dossier_save_draft(
        actor=accounts[ARCHITECT],
        procedure=procedure,
        applicant=data,
        parcels=_parcels(commune=commune, spec=spec),
        title=spec.title,
        figures=spec.figures,
    )
    if applicant.account:
        # No service links an applicant record to an existing account yet; the demo needs the link so
        # that demo.applicant sees the dossiers filed for her.
        Applicant.objects.filter(pk=dossier.applicant_id).update(user=accounts[applicant.account])
    main = procedure.checklist.filter(kind=DocumentKind.MAIN).order_by("position")
    codes = list(main.values_list("code", flat=True))
    if spec.status == Status.DRAFT:
        codes = codes[: max(len(codes) // 2, 1)]  # a draft on its way: half of the main documents
    else:
        info = procedure.checklist.filter(kind=DocumentKind.INFORMATION).order_by("position").first()
        codes += [info.code] if info else []
    for code in codes:
        _upload(dossier=dossier, item_code=code, actor=accounts[ARCHITECT])
    return _Filing(spec=spec, dossier=dossier, accounts=accounts, calendar=calendar).run(PATHS[spec.status])


def demo_dossiers_build(
    *, commune_code: str = DEMO_COMMUNE_CODE, specs: tuple[DemoDossier, ...] = DOSSIERS
) -> DemoDossiersSummary:
    """File whatever demo dossier is missing and walk it to its status; existing ones are left alone."""
    commune = AdminArea.objects.filter(code=commune_code).first()
    if commune is None:
        raise DemoDossiersError(f"the demo commune {commune_code} is missing: run `manage.py seed_demo`")
    usernames = {ARCHITECT, APPLICANT, DESK, PRESIDENT, SIGNATORY}
    accounts = {user.username: user for user in get_user_model().objects.filter(username__in=usernames)}
    missing = usernames - set(accounts)
    if missing:
        raise DemoDossiersError(f"demo accounts missing: {', '.join(sorted(missing))}: run `manage.py seed_demo`")
    catalogue_loaded = False
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        needed = {spec.procedure for spec in specs}
        if needed - set(Procedure.objects.filter(code__in=needed).values_list("code", flat=True)):
            from permits.catalogue import catalogue_load

            catalogue_load()
            catalogue_loaded = True
        existing_titles = set(
            Dossier.objects.filter(commune=commune, created_by=accounts[ARCHITECT]).values_list("title", flat=True)
        )
        calendar = WorkingCalendar()
        created = 0
        # Oldest first, so that references follow the filing dates.
        for spec in sorted(specs, key=lambda s: -s.filed_days_ago):
            if spec.title in existing_titles:
                continue
            _file(spec=spec, commune=commune, accounts=accounts, calendar=calendar)
            created += 1
    titles = {spec.title for spec in specs}
    statuses = Counter(
        Dossier.objects.filter(commune=commune, created_by=accounts[ARCHITECT], title__in=titles).values_list(
            "status", flat=True
        )
    )
    return DemoDossiersSummary(
        created=created,
        existing=len(specs) - created,
        statuses=dict(statuses),
        catalogue_loaded=catalogue_loaded,
    )


def demo_dossiers_delete(*, commune_code: str = DEMO_COMMUNE_CODE) -> int:
    """Delete every dossier of the demo commune, its documents (files too) and the commune's reference counters.

    For redrawing the demo geography (``seed_demo --reset``): the commune cannot be deleted while
    dossiers or counters point to it. Audit records stay — the trail is append-only and its chain does
    not depend on the dossiers. Returns the number of dossiers deleted.
    """
    with transaction.atomic():
        dossiers = Dossier.objects.filter(commune__code=commune_code)
        ids = list(dossiers.values_list("pk", flat=True))
        applicant_ids = set(dossiers.values_list("applicant_id", flat=True))
        documents = Document.objects.filter(dossier_id__in=ids)
        files = [name for name in documents.values_list("file", flat=True) if name]
        # Each version PROTECTs the one it supersedes: unlink them before deleting them together.
        documents.exclude(supersedes=None).update(supersedes=None)
        documents.delete()
        dossiers.delete()
        Applicant.objects.filter(pk__in=applicant_ids, dossiers__isnull=True).delete()
        ReferenceCounter.objects.filter(commune__code=commune_code).delete()
        transaction.on_commit(lambda: [default_storage.delete(name) for name in files])
    return len(ids)
