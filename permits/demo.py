"""Demo dossiers on the demo commune: at least one in every status, each reached through the workflow.

:func:`demo_dossiers_build` files dossiers as ``demo.architect`` for a handful of applicants (among them
``demo.applicant``'s own account, so that account sees its dossiers), uploads small real documents
(one-page PDFs and PNG photos written here, byte by byte) and walks each dossier to its status with
:func:`permits.workflow.dossier_transition` — the desk, the committee president and the signatory act
with their demo accounts, the system (``actor=None``) deems approved and lapses. No status or date is
written directly: the past is reached by passing ``today=`` to the transitions, oldest dossier first,
so that references follow the filing dates. The timeline events and audit records themselves carry the
moment the demo was built (they are the legal record of what happened when).

The dossiers go through the committees like real ones (:func:`demo_committees_build` first loads the
demo commune's committees from ``permits/data/committees.json``, gives every organisation a member
account and makes ``demo.president`` their president): acceptance selects the members, the architect
books a slot with :func:`permits.committees.slot_book`, the president opens the session, every
selected organisation gives its opinion through :func:`permits.opinions.opinion_record`, the president
closes the session (which consolidates and moves the dossier) and generates the minutes, and the
signatory generates the decision before signing it. A month of sessions ahead is generated for booking.

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

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from geo.models import AdminArea, AuthorisedWork, Parcel
from permits.committees import committee_for_dossier, invitee_add, sessions_generate, slot_book
from permits.deadlines import WorkingCalendar
from permits.issuing import decision_generate, minutes_generate
from permits.models import (
    Applicant,
    Booking,
    ChecklistVerdict,
    Committee,
    Document,
    DocumentKind,
    Dossier,
    DossierMember,
    IssuedDocument,
    Opinion,
    Organisation,
    OrganisationKind,
    Procedure,
    ReferenceCounter,
    Remark,
    Session,
    SessionStatus,
    Status,
    Verdict,
)
from permits.opinions import opinion_record, remark_answer, session_close, session_open
from permits.roles import Role
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


# --- committees: the demo commune's committees and one member account per organisation ------------


@dataclass(frozen=True)
class DemoMember:
    """A committee member's demo account and the organisation it sits for."""

    username: str
    first_name: str
    last_name: str
    organisation: str


# demo.member (created by ``seed_demo`` with the other role accounts) sits for the urban agency; every
# other organisation of the catalogue gets its own account here, in the committee-member group.
URBAN_AGENCY_MEMBER = "demo.member"
URBAN_AGENCY = "agence-urbaine-casablanca"
DEMO_COUNCIL = "commune-demo-001"
MEMBERS: tuple[DemoMember, ...] = (
    DemoMember(URBAN_AGENCY_MEMBER, "Omar", "Tazi", URBAN_AGENCY),
    DemoMember("demo.commune", "Mustapha", "Kettani", DEMO_COUNCIL),
    DemoMember("demo.prefecture", "Laila", "Fassi Fihri", "prefecture-casablanca"),
    DemoMember("demo.civil-protection", "Youssef", "Amrani", "protection-civile-casablanca"),
    DemoMember("demo.heritage", "Samira", "Ouali", "monuments-historiques-casablanca"),
    DemoMember("demo.lydec", "Mehdi", "Sqalli", "lydec"),
    DemoMember("demo.anrt", "Imane", "Bouzidi", "anrt"),
    DemoMember("demo.ancfcc", "Driss", "Lamrani", "ancfcc"),
    DemoMember("demo.roads", "Khalid", "Naji", "equipement-casablanca"),
    DemoMember("demo.airport", "Zineb", "Hajji", "onda"),
    DemoMember("demo.coast", "Anas", "Belkadi", "dpdpm"),
    DemoMember("demo.hydraulic", "Houda", "Sebti", "abh-bouregreg-chaouia"),
)
# Shared by every demo account (``etl.demo.DEMO_PASSWORD``; a test checks that both agree).
DEMO_PASSWORD = "taamir-demo"
# Sessions kept generated ahead of the build day, for booking.
SESSIONS_AHEAD_DAYS = 31


@dataclass(frozen=True)
class DemoCommitteesSummary:
    """What :func:`demo_committees_build` found and wrote."""

    organisations: int
    committees: int
    catalogue_changed: bool
    accounts_created: int
    memberships_created: int
    presidents_set: int

    @property
    def changed(self) -> bool:
        """True when this run wrote anything."""
        return bool(self.catalogue_changed or self.accounts_created or self.memberships_created or self.presidents_set)


def _member_accounts_ensure() -> tuple[dict[str, Any], int]:
    """The members' accounts, created if missing (in the committee-member group); returns them and the count."""
    user_model = get_user_model()
    usernames = [member.username for member in MEMBERS]
    existing = set(user_model.objects.filter(username__in=usernames).values_list("username", flat=True))
    missing = [member for member in MEMBERS if member.username not in existing]
    if missing:
        password = make_password(DEMO_PASSWORD)  # one hash for all: the password is public
        user_model.objects.bulk_create(
            user_model(
                username=member.username,
                first_name=member.first_name,
                last_name=member.last_name,
                email=f"{member.username}@{DEMO_EMAIL_DOMAIN}",
                password=password,
            )
            for member in missing
        )
    accounts = {user.username: user for user in user_model.objects.filter(username__in=usernames)}
    if missing and apps.is_installed("allauth.account"):
        from allauth.account.models import EmailAddress

        # A verified primary address, so that allauth lets the new accounts sign in by e-mail too.
        EmailAddress.objects.bulk_create(
            EmailAddress(user=accounts[m.username], email=accounts[m.username].email, verified=True, primary=True)
            for m in missing
        )
    group, _created = Group.objects.get_or_create(name=Role.COMMITTEE_MEMBER.value)
    for member in missing:
        accounts[member.username].groups.add(group)
    return accounts, len(missing)


def demo_committees_build(*, commune_code: str = DEMO_COMMUNE_CODE) -> DemoCommitteesSummary:
    """Load the commune's committees, give each organisation its demo member and the committees their president.

    Idempotent: existing accounts, memberships and a president chosen in the admin are left alone.
    """
    from permits.catalogue import committee_catalogue_load_current

    if not AdminArea.objects.filter(code=commune_code).exists():
        raise DemoDossiersError(f"the demo commune {commune_code} is missing: run `manage.py seed_demo`")
    president = get_user_model().objects.filter(username=PRESIDENT).first()
    if president is None:
        raise DemoDossiersError(f"demo account missing: {PRESIDENT}: run `manage.py seed_demo`")
    with transaction.atomic():
        counts = committee_catalogue_load_current(communes=[commune_code])
        accounts, accounts_created = _member_accounts_ensure()
        organisations = {o.code: o for o in Organisation.objects.filter(code__in={m.organisation for m in MEMBERS})}
        memberships_created = 0
        for member in MEMBERS:
            organisation = organisations[member.organisation]
            if not organisation.members.filter(pk=accounts[member.username].pk).exists():
                organisation.members.add(accounts[member.username])
                memberships_created += 1
        presidents_set = Committee.objects.filter(commune__code=commune_code, president__isnull=True).update(
            president=president
        )
    return DemoCommitteesSummary(
        organisations=Organisation.objects.count(),
        committees=Committee.objects.filter(commune__code=commune_code).count(),
        catalogue_changed=counts.changed,
        accounts_created=accounts_created,
        memberships_created=memberships_created,
        presidents_set=presidents_set,
    )


def demo_sessions_ahead(*, commune_code: str = DEMO_COMMUNE_CODE, today: date | None = None) -> int:
    """A month of sessions ahead for every committee of the commune (working days only); the number created."""
    today = today or timezone.localdate()
    end = today + timedelta(days=SESSIONS_AHEAD_DAYS)
    return sum(
        len(sessions_generate(committee=committee, start=today + timedelta(days=1), end=end))
        for committee in Committee.objects.filter(commune__code=commune_code, active=True)
    )


def demo_committees_delete(*, commune_code: str = DEMO_COMMUNE_CODE) -> int:
    """Delete the commune's committees (their sessions go with the dossiers first); the number deleted.

    Organisations and their members stay: they are catalogue data and accounts, not the commune's.
    """
    with transaction.atomic():
        demo_committee_record_delete(commune_code=commune_code)
        committees = Committee.objects.filter(commune__code=commune_code)
        count = committees.count()
        committees.delete()
    return count


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
    DemoDossier("Restauration d'une maison traditionnelle (R+1)", "permis-construire", Status.ISSUED, "naciri", "Z08",
                17, _house(2, 7.2, 185), filed_days_ago=60),
    DemoDossier("Panneau publicitaire 4 × 3 m sur pied", "publicite", Status.UNFAVOURABLE, "medias", "Z08", 12,
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
# What a member writes when it has reservations or is unfavourable and the dossier gives no reason.
_REMARKS = {
    Verdict.RESERVATIONS: "Prévoir les dispositifs de sécurité et les raccordements aux réseaux conformément aux "
    "prescriptions jointes, avant la mise en service.",
    Verdict.UNFAVOURABLE: "Le projet ne respecte pas les prescriptions de l'organisme : voir le procès-verbal.",
}
# The bodies that give a favourable opinion with reservations in the demo, and what they ask for.
_RESERVATIONS = {
    OrganisationKind.CIVIL_PROTECTION: "Issues de secours, extincteurs et colonne sèche conformes au règlement de "
    "sécurité contre l'incendie ; visite de contrôle avant l'ouverture.",
    OrganisationKind.NETWORK_OPERATOR: "Raccordements aux réseaux d'eau, d'électricité et d'assainissement à réaliser "
    "selon l'étude du gestionnaire, aux frais du pétitionnaire.",
    OrganisationKind.HERITAGE: "Façades, menuiseries et couleurs conformes au règlement du périmètre du noyau ancien ; "
    "échantillons à soumettre à l'inspection avant exécution.",
}
# The architect's answer to each remark before resubmitting.
_ANSWER = "Plans modifiés en conséquence : voir la nouvelle version des plans, cotes et façades reprises."


@dataclass(frozen=True)
class DemoDossiersSummary:
    """What :func:`demo_dossiers_build` found and wrote."""

    created: int
    existing: int
    statuses: dict[str, int]
    catalogue_loaded: bool
    committees: DemoCommitteesSummary | None = None
    sessions_created: int = 0

    @property
    def changed(self) -> bool:
        """True when this run wrote anything."""
        committees_changed = self.committees is not None and self.committees.changed
        return bool(self.created or self.catalogue_loaded or committees_changed or self.sessions_created)


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

    # --- the committee ---------------------------------------------------------------------------

    def _session_on_or_after(self, day: date) -> Session:
        """The committee's first planned session with a free place on or after ``day``, generated if needed."""
        committee = committee_for_dossier(dossier=self.dossier)
        if committee is None:
            raise DemoDossiersError(f"no committee examines “{self.spec.title}”: run `manage.py seed_demo`")
        for _attempt in range(120):
            if day.weekday() in committee.weekdays and self.calendar.is_working_day(day):
                sessions_generate(committee=committee, start=day, end=day)
                session = Session.objects.get(committee=committee, date=day)
                booked = session.bookings.filter(cancelled_at__isnull=True).count()
                if session.status == SessionStatus.PLANNED and booked < session.capacity:
                    return session
            day += timedelta(days=1)
        raise DemoDossiersError(f"no free session of {committee.code} after {day}")

    def _session(self) -> Session:
        return (
            Booking.objects.select_related("session__committee")
            .get(dossier=self.dossier, cancelled_at__isnull=True)
            .session
        )

    def _do_schedule(self, action: str) -> None:
        # The architect books the first free session a week after acceptance (in the future for a
        # dossier that stays scheduled); the committee then sits on that day.
        start = self.day if self.spec.status != Status.SCHEDULED else max(self.day, self.real_today)
        session = self._session_on_or_after(self.calendar.add_working_days(start, _SESSION_AFTER))
        slot_book(dossier=self.dossier, session=session, actor=self.accounts[ARCHITECT], today=self.day)
        self.dossier.refresh_from_db()
        self.day = min(session.date, self.real_today)

    def _do_start_review(self, action: str) -> None:
        session_open(session=self._session(), actor=self.accounts[PRESIDENT], today=self.day)
        self.dossier.refresh_from_db()
        if self.spec.status == Status.UNDER_REVIEW:
            # Under review: the permanent members have given their opinion, the others not yet.
            self._opinions(lambda member: Verdict.FAVOURABLE if member.permanent else None)

    def _opinions(self, verdict_of: Any, remark: str = "") -> None:
        """Each selected organisation's opinion, given by its demo member; ``verdict_of`` picks the verdict."""
        session = self._session()
        for member in DossierMember.objects.filter(dossier=self.dossier).select_related("organisation"):
            verdict = verdict_of(member)
            author = member.organisation.members.order_by("username").first()
            if verdict is None or author is None:
                continue
            if verdict in {Verdict.FAVOURABLE, Verdict.NOT_CONCERNED}:
                remarks = []
            else:
                remarks = [remark or _RESERVATIONS.get(member.organisation.kind) or _REMARKS[verdict]]
            opinion_record(
                dossier=self.dossier,
                organisation=member.organisation,
                author=author,
                verdict=verdict,
                remark_items=remarks,
                session=session,
            )

    def _close(self) -> None:
        """The president closes the session (the outcome moves the dossier) and generates its minutes."""
        session = self._session()
        session_close(session=session, actor=self.accounts[PRESIDENT], today=self.day)
        session.refresh_from_db()
        minutes_generate(session=session, actor=self.accounts[PRESIDENT])
        self.dossier.refresh_from_db()

    def _do_give_favourable_opinion(self, action: str) -> None:
        # Safety, networks and heritage bodies ask for precautions: favourable with reservations, which become
        # the permit's conditions.
        self._opinions(
            lambda member: Verdict.RESERVATIONS if member.organisation.kind in _RESERVATIONS else Verdict.FAVOURABLE
        )
        self._close()

    def _do_give_unfavourable_opinion(self, action: str) -> None:
        # The urban agency's unfavourable opinion is binding; where it does not sit, the desk invites it.
        if not DossierMember.objects.filter(dossier=self.dossier, organisation__code=URBAN_AGENCY).exists():
            invitee_add(
                dossier=self.dossier,
                organisation=Organisation.objects.get(code=URBAN_AGENCY),
                reason="Projet situé dans un périmètre soumis au règlement d'urbanisme : avis de l'agence urbaine.",
                actor=self.accounts[DESK],
            )
        # The heritage authority, when the site is in a protected perimeter, agrees with it (not binding).
        opposed = {
            URBAN_AGENCY,
            *Organisation.objects.filter(kind=OrganisationKind.HERITAGE).values_list("code", flat=True),
        }
        self._opinions(
            lambda member: Verdict.UNFAVOURABLE if member.organisation.code in opposed else Verdict.FAVOURABLE,
            remark=self.spec.reason,
        )
        self._close()

    def _do_request_changes(self, action: str) -> None:
        # The commune asks for changes; the urban agency agrees on condition that they are made.
        def verdict_of(member: DossierMember) -> str:
            if member.organisation.kind == OrganisationKind.COMMUNE:
                return Verdict.UNFAVOURABLE
            return Verdict.RESERVATIONS if member.organisation.code == URBAN_AGENCY else Verdict.FAVOURABLE

        self._opinions(verdict_of, remark=self.spec.reason)
        self._close()

    def _do_revise(self, action: str) -> None:
        # The architect answers every remark of the round, then uploads the revised plans.
        remarks = Remark.objects.filter(opinion__dossier=self.dossier, opinion__review_round=self.dossier.review_round)
        for remark in remarks.order_by("id"):
            remark_answer(remark=remark, answer=_ANSWER, actor=self.accounts[ARCHITECT])
        _upload(dossier=self.dossier, item_code=_plans_item(self.dossier.procedure), actor=self.accounts[ARCHITECT],
                version_note="Plans révisés après les remarques de la commission")  # fmt: skip

    def _do_issue(self, action: str) -> None:
        decision_generate(dossier=self.dossier, actor=self.accounts[SIGNATORY])
        self._move(action, self.accounts[SIGNATORY])

    def _do_refuse(self, action: str) -> None:
        decision_generate(dossier=self.dossier, actor=self.accounts[SIGNATORY])
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
    """File whatever demo dossier is missing and walk it to its status; existing ones are left alone.

    The demo committees (and their members) are made sure of first, and a month of sessions ahead after.
    """
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
        committees = demo_committees_build(commune_code=commune_code)
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
        sessions_created = demo_sessions_ahead(commune_code=commune_code)
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
        committees=committees,
        sessions_created=sessions_created,
    )


def demo_committee_record_delete(*, commune_code: str = DEMO_COMMUNE_CODE) -> int:
    """Delete what the committees of the commune produced: sessions, bookings, opinions, minutes, decisions.

    Also the commune's authorised works (the geo-portal features of its permits). For a reset of the
    demo only; returns the number of sessions deleted.
    """
    with transaction.atomic():
        dossier_ids = list(Dossier.objects.filter(commune__code=commune_code).values_list("pk", flat=True))
        sessions = Session.objects.filter(committee__commune__code=commune_code)
        session_ids = list(sessions.values_list("pk", flat=True))
        issued = IssuedDocument.objects.filter(Q(dossier_id__in=dossier_ids) | Q(session_id__in=session_ids))
        files = [name for name in issued.values_list("file", flat=True) if name]
        # Each new version PROTECTs the one it replaces: unlink them before deleting them together.
        issued.exclude(replaces=None).update(replaces=None)
        issued.delete()
        Opinion.objects.filter(Q(dossier_id__in=dossier_ids) | Q(session_id__in=session_ids)).delete()
        Booking.objects.filter(Q(dossier_id__in=dossier_ids) | Q(session_id__in=session_ids)).delete()
        sessions.delete()
        AuthorisedWork.objects.filter(commune__code=commune_code).delete()
        transaction.on_commit(lambda: [default_storage.delete(name) for name in files])
    return len(session_ids)


def demo_dossiers_delete(*, commune_code: str = DEMO_COMMUNE_CODE) -> int:
    """Delete every dossier of the demo commune, its documents (files too) and the commune's reference counters.

    For redrawing the demo geography (``seed_demo --reset``): the commune cannot be deleted while
    dossiers or counters point to it; the committees' sessions, bookings, opinions, minutes and decisions
    and the commune's authorised works go first. Audit records stay — the trail is append-only and its chain does
    not depend on the dossiers. Returns the number of dossiers deleted.
    """
    from permits.signing_models import ApprovedPlan, SignatureRequest
    from plans.demo import demo_plans_delete

    with transaction.atomic():
        # Signatures and stamped plans point to issued documents and plan versions: they go first.
        ApprovedPlan.objects.filter(document__dossier__commune__code=commune_code).delete()
        SignatureRequest.objects.filter(document__dossier__commune__code=commune_code).delete()
        demo_plans_delete(commune_code=commune_code)
        demo_committee_record_delete(commune_code=commune_code)
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
