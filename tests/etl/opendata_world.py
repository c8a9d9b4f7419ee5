"""A small permit history with known answers, walked through the real workflow in autumn 2025.

Green March (Thursday 6 November) and Independence Day (Tuesday 18 November) are holidays; dossier B
waits on its applicant from Friday 7 to Monday 17 November (a clock stop of 6 working days). Each
transition is backdated with ``today=`` and its timeline event carries that day, as it would have had
it been recorded live. The expected figures are worked out by hand in ``tests/etl/test_indicators.py``.

    A  filed 3 Nov, accepted 5 Nov, committee 10 Nov, issued 14 Nov        (1 review cycle)
    B  filed 3 Nov, accepted 4 Nov, changes 7→17 Nov, committee 19 Nov, issued 21 Nov (2 cycles)
    C  filed 3 Nov, accepted 4 Nov, committee 10 Nov (unfavourable), refused 12 Dec
    D  filed 3 Nov, inadmissible 7 Nov
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone

from etl.opendata.indicators import indicators_compute_range
from permits.committee_models import DossierMember, Opinion, Organisation, Verdict
from permits.models import DossierEvent
from permits.opinions import opinion_record
from permits.roles import Role
from permits.services import ApplicantData, dossier_save_draft
from tests.permits.conftest import SMALL_HOUSE, upload
from tests.permits.test_workflow import step

NOV = 11
FIRST, LAST = date(2025, 11, 1), date(2025, 12, 15)

APPLICANT = ApplicantData(
    first_name="Samia", last_name="Berrada", national_id="BK778812", email="samia.berrada@example.org",
    phone="+212600778812", address="7, rue des Lilas, Casablanca",
)  # fmt: skip


def day(d: int, month: int = NOV) -> date:
    return date(2025, month, d)


def moved(dossier, users, action: str, on: date, **kwargs):
    """One transition on ``on``; its timeline event carries that day (as if recorded then)."""
    last = DossierEvent.objects.filter(dossier=dossier).order_by("-id").values_list("id", flat=True).first() or 0
    dossier = step(dossier, users, action, today=on, **kwargs)
    moment = timezone.make_aware(datetime.combine(on, time(10, 0)))
    DossierEvent.objects.filter(dossier=dossier, id__gt=last).update(created_at=moment)
    return dossier


def opinion_on(dossier, organisation, author, on: date) -> None:
    opinion = opinion_record(dossier=dossier, organisation=organisation, author=author, verdict=Verdict.FAVOURABLE)
    Opinion.objects.filter(pk=opinion.pk).update(created_at=timezone.make_aware(datetime.combine(on, time(11, 0))))


def build_history(users, procedure, world, *, only: str = "ABCD") -> dict:
    """File and walk A, B, C and D (or ``only`` some); returns them with the institution that gives opinions."""
    agency = Organisation.objects.create(
        code="test-agence-urbaine", kind="urban_agency", name_fr="Agence urbaine test", name_ar="الوكالة الحضرية",
        name_en="Test urban agency", binding_opinion=True,
    )  # fmt: skip
    member = users[Role.COMMITTEE_MEMBER]
    agency.members.add(member)
    dossiers = {}
    for name in only:
        draft = dossier_save_draft(
            actor=users[Role.ARCHITECT], procedure=procedure, applicant=APPLICANT, parcels=[world["flat"]],
            title=f"Maison {name}", figures={**SMALL_HOUSE, "built_area_m2": 100 * (ord(name) - 64), "dwellings": 1},
        )  # fmt: skip
        upload(draft, "architectural-plans", users[Role.ARCHITECT])
        upload(draft, "title-deed", users[Role.ARCHITECT])
        dossiers[name] = moved(draft, users, "submit", day(3))

    found: dict = {"agency": agency}
    if "A" in only:
        found["A"] = _walk_a(dossiers["A"], users, agency, member)
    if "B" in only:
        found["B"] = _walk_b(dossiers["B"], users, agency, member)
    if "C" in only:
        found["C"] = _walk_c(dossiers["C"], users)
    if "D" in only:
        found["D"] = moved(dossiers["D"], users, "declare_inadmissible", day(7))
    return found


def _walk_a(a, users, agency, member):
    a = moved(a, users, "accept", day(5))
    DossierMember.objects.create(dossier=a, organisation=agency, reason="test", file_sent_on=day(5))
    a = moved(a, users, "schedule", day(5), data={"session_date": day(10)})
    a = moved(a, users, "start_review", day(10))
    opinion_on(a, agency, member, day(7))
    a = moved(a, users, "give_favourable_opinion", day(10))
    a = moved(a, users, "prepare_decision", day(12))
    return moved(a, users, "issue", day(14))


def _walk_b(b, users, agency, member):
    b = moved(b, users, "accept", day(4))
    DossierMember.objects.create(dossier=b, organisation=agency, reason="test", file_sent_on=day(4))
    b = moved(b, users, "schedule", day(4), data={"session_date": day(7)})
    b = moved(b, users, "start_review", day(7))
    opinion_on(b, agency, member, day(7))
    b = moved(b, users, "request_changes", day(7))
    b = moved(b, users, "resubmit", day(17))
    b = moved(b, users, "schedule", day(17), data={"session_date": day(19)})
    b = moved(b, users, "start_review", day(19))
    opinion_on(b, agency, member, day(19))
    b = moved(b, users, "give_favourable_opinion", day(19))
    b = moved(b, users, "prepare_decision", day(20))
    return moved(b, users, "issue", day(21))


def _walk_c(c, users):
    c = moved(c, users, "accept", day(4))
    c = moved(c, users, "schedule", day(4), data={"session_date": day(10)})
    c = moved(c, users, "start_review", day(10))
    c = moved(c, users, "give_unfavourable_opinion", day(10))
    c = moved(c, users, "prepare_decision", day(11))
    return moved(c, users, "refuse", day(12, 12))


def _fixture_body(fixture):
    """The function behind a pytest fixture, to build the same objects once for a whole module."""
    return fixture._get_wrapped_function()


@contextmanager
def seeded_history(django_db_blocker, *, only: str = "ABCD", media_root=None) -> Iterator[dict]:
    """The history and its indicators, in a transaction rolled back on exit (for module-scoped fixtures).

    With ``media_root`` the datasets are published too, into that folder.
    """
    from tests.conftest import casablanca_world
    from tests.permits.conftest import building_permit, users

    with django_db_blocker.unblock(), transaction.atomic():
        accounts = _fixture_body(users)(None)
        world = build_history(
            accounts, _fixture_body(building_permit)(None), _fixture_body(casablanca_world)(None), only=only
        )
        indicators_compute_range(start=FIRST, end=LAST)
        if media_root is None:
            yield {**world, "users": accounts}
        else:
            from django.test import override_settings

            from etl.opendata.datasets import datasets_publish

            with override_settings(MEDIA_ROOT=media_root):
                published = datasets_publish(day=LAST, base_url="http://testserver")
                yield {**world, "users": accounts, "published": published}
        transaction.set_rollback(True)
