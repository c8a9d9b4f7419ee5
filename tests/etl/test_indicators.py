"""Indicator arithmetic on a seeded history with known answers (holidays, a clock stop, two review rounds).

The history is :mod:`tests.etl.opendata_world`; every expected number below is counted by hand in working
days ``(start, end]`` — Thursday 6 and Tuesday 18 November 2025 are holidays:

* A: accepted Wed 5 → issued Fri 14: 7, 10, 11, 12, 13, 14 = 6; review 5 → 10: 7, 10 = 2; decision 10 → 14 = 4.
* B: accepted Tue 4 → issued Fri 21: 11 working days minus the stop 7 → 17 (10–14, 17 = 6) = 5;
  review 4 → 19 = 9 − 6 = 3; decision 19 → 21 = 2; 2 review cycles; 6 days waiting on the applicant.
* C: accepted Tue 4 Nov → refused Fri 12 Dec = 26 (past the 23-day legal total 3 + 15 + 3 + 2): review
  4 → 10 = 3, decision 10 Nov → 12 Dec = 23.
* Completeness: A 2, B 1, C 1, D (inadmissible Fri 7) 3.
* Overall delays [5, 6, 26]: mean 12.33, median 6, p90 = 6 + 0.8 × 20 = 22.
* The agency's opinions: A 5 → 7 = 1, B round 1 4 → 7 = 2, B round 2 (resubmitted 17) → 19 = 1.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from etl.models import DailyIndicator, DelayObservation
from etl.opendata import selectors
from etl.opendata.indicators import indicators_compute, legal_instruction_days, percentile
from tests.etl.opendata_world import FIRST, LAST, day, seeded_history
from tests.permits.conftest import building_permit  # noqa: F401 — fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    """Built once for the module, inside a transaction rolled back at its end."""
    with seeded_history(django_db_blocker) as world:
        yield world


def value(metric: str, on: date, **more) -> float | None:
    row = DailyIndicator.objects.filter(day=on, metric=metric, **more).first()
    return row.value if row else None


def test_percentile_is_linear_between_closest_ranks():
    assert percentile([5, 6, 26], 0.5) == 6
    assert percentile([5, 6, 26], 0.9) == pytest.approx(22.0)
    assert percentile([1, 1, 2], 0.9) == pytest.approx(1.8)
    assert percentile([7], 0.9) == 7
    assert percentile([], 0.5) is None


def test_legal_instruction_total_comes_from_the_procedure(building_permit):  # noqa: F811
    assert legal_instruction_days(building_permit) == 3 + 15 + 3 + 2
    building_permit.deadlines = {**building_permit.deadlines, "instruction_total": 10}
    assert legal_instruction_days(building_permit) == 10


def test_daily_counts_and_backlog(history):
    assert value("filed", day(3)) == 4
    assert value("accepted", day(4)) == 2 and value("accepted", day(5)) == 1
    assert value("inadmissible", day(7)) == 1
    assert value("issued", day(14)) == 1 and value("issued", day(21)) == 1
    assert value("refused", date(2025, 12, 12)) == 1
    assert [value("backlog", d) for d in (day(3), day(7), day(14), day(21))] == [4, 3, 2, 1]
    assert value("backlog", date(2025, 12, 12)) is None  # nothing pending: no row
    assert value("filed", day(4)) is None


def test_delays_per_stage_and_overall_in_working_days(history):
    def delays(measure: str) -> dict[str, int]:
        rows = DelayObservation.objects.filter(measure=measure).select_related("dossier")
        return {row.dossier.title[-1]: row.working_days for row in rows}

    assert delays(DelayObservation.Measure.OVERALL) == {"A": 6, "B": 5, "C": 26}
    assert delays(DelayObservation.Measure.REVIEW) == {"A": 2, "B": 3, "C": 3}
    assert delays(DelayObservation.Measure.DECISION) == {"A": 4, "B": 2, "C": 23}
    assert delays(DelayObservation.Measure.COMPLETENESS) == {"A": 2, "B": 1, "C": 1, "D": 3}
    assert value("overall_delay_median", day(14)) == 6
    assert value("within_deadline_share", day(21)) == 1.0
    assert value("within_deadline_share", date(2025, 12, 12)) == 0.0
    assert value("review_cycles_mean", day(21)) == 2
    assert value("applicant_wait_days_mean", day(21)) == 6
    assert value("authorised_built_area_m2", day(14)) == 100
    assert value("authorised_dwellings", day(21)) == 1


def test_period_figures_on_the_page_are_exact(history):
    filters = selectors.OpenDataFilters(start=FIRST, end=LAST)
    head = selectors.headline(filters)
    assert head.counts["filed"] == 4 and head.counts["issued"] == 2 and head.counts["refused"] == 1
    assert head.counts["inadmissible"] == 1
    assert head.delay.count == 3
    assert head.delay.mean == pytest.approx(37 / 3)
    assert head.delay.median == 6
    assert head.delay.p90 == pytest.approx(22.0)
    assert head.within_deadline_share == pytest.approx(2 / 3)
    assert head.review_cycles == pytest.approx(4 / 3)
    assert head.applicant_wait_days == pytest.approx(2.0)
    assert head.built_area_m2 == 300 and head.dwellings == 2
    assert head.backlog == 0  # everything decided by 15 December


def test_institution_delays(history):
    rows = selectors.institution_delays(selectors.OpenDataFilters(start=FIRST, end=LAST))
    assert len(rows) == 1
    summary = rows[0].delay
    assert rows[0].organisation == history["agency"]
    assert (summary.count, summary.median) == (3, 1)
    assert summary.mean == pytest.approx(4 / 3)
    assert summary.p90 == pytest.approx(1.8)
    assert value("opinion_delay_mean", day(7), organisation=history["agency"]) == pytest.approx(1.5)


def test_rerunning_a_day_gives_the_same_rows(history):
    def snapshot() -> list[tuple]:
        return list(
            DailyIndicator.objects.order_by("day", "metric", "procedure_id", "classification", "organisation_id")
            .values_list("day", "commune_id", "procedure_id", "classification", "organisation_id", "metric", "value",
                         "sample")
        ) + list(DelayObservation.objects.order_by("day", "measure", "dossier_id", "organisation_id").values_list(
            "day", "measure", "dossier_id", "organisation_id", "working_days"))  # fmt: skip

    before = snapshot()
    indicators_compute(days=[day(21)])
    indicators_compute(days=[day(21), day(14)])
    assert snapshot() == before
    assert DailyIndicator.objects.filter(day=day(21)).count() == 13  # counts, backlog, delays, shares, area


def test_command_computes_a_day_and_refuses_bad_dates(history):
    out = io.StringIO()
    call_command("compute_indicators", "--date", "2025-11-21", stdout=out)
    assert out.getvalue().startswith("2025-11-21: ")
    with pytest.raises(CommandError, match=r"^--date: '2025-13-01' is not a date like 2025-07-30$"):
        call_command("compute_indicators", "--date", "2025-13-01")
    with pytest.raises(CommandError, match="is in the future"):
        call_command("compute_indicators", "--date", "2999-01-01")
