"""Daily indicators: what was filed, accepted, decided and still waiting, and how long it took, per day.

For each day, commune, procedure and classification (GP/PP, blank where it does not apply)
:func:`indicators_compute` counts the dossiers filed, accepted, declared inadmissible, issued, refused
and deemed approved that day, the backlog at the end of the day, and summarises the delays that ended
that day — overall (acceptance to decision), per stage, per institution (members' opinions) — with
their mean, median and 90th percentile, the share decided within the legal deadline, the review cycles,
the days spent waiting on the applicant, and the built area and dwellings authorised.

Every delay is in working days (:class:`permits.deadlines.WorkingCalendar`: Moroccan holidays and the
administrator's extra ones), with the clock stops (changes requested) taken out. The dates of a
dossier's milestones are the business dates the workflow writes (``submitted_at``, ``accepted_on``,
clock stops, opinion dates, ``decided_at``); a milestone the dossier does not keep a field for comes
from its timeline (:class:`permits.models.DossierEvent`). A day's rows are replaced in one
transaction, so re-running a day gives the same rows. The formulas are in ``docs/open-data.md``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from etl.models import DailyIndicator, DelayObservation
from permits.deadlines import WorkingCalendar
from permits.models import DossierMember, Opinion, Procedure, Status

# Steps of the administration's instruction, summed when a procedure gives no ``instruction_total``.
INSTRUCTION_STEPS = ("send_to_members", "member_opinions", "minutes", "notify_decision")
# Statuses in which a permit was issued (a lapsed permit was issued first).
ISSUED_STATUSES = {Status.ISSUED, Status.LAPSED}
DECIDED_STATUSES = {*ISSUED_STATUSES, Status.REFUSED, Status.DEEMED_APPROVED}
# Statuses a dossier reaches only after the committee's (favourable or unfavourable) opinion.
AFTER_COMMITTEE = {Status.FAVOURABLE, Status.UNFAVOURABLE, Status.DECISION_SIGNING, Status.ISSUED, Status.REFUSED,
                   Status.LAPSED}  # fmt: skip
COUNT_METRICS = ("filed", "accepted", "inadmissible", "issued", "refused", "deemed_approved", "withdrawn", "backlog")
STAGES = (
    DelayObservation.Measure.COMPLETENESS,
    DelayObservation.Measure.REVIEW,
    DelayObservation.Measure.DECISION,
)


def legal_instruction_days(procedure: Procedure) -> int | None:
    """The working days the administration has from acceptance to decision, from the procedure's data."""
    if procedure.deadline("instruction_total") is not None:
        return procedure.deadline("instruction_total")
    steps = [procedure.deadline(step) for step in INSTRUCTION_STEPS]
    present = [days for days in steps if days is not None]
    return sum(present) if present else None


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


@dataclass
class Milestones:
    """When a dossier reached each stage (local dates), with what the indicators need to know about it."""

    dossier_id: int
    commune_id: int
    procedure: Procedure
    classification: str
    filed_on: date | None = None
    accepted_on: date | None = None
    inadmissible_on: date | None = None
    withdrawn_on: date | None = None
    committee_on: date | None = None
    decided_on: date | None = None
    outcome: str = ""  # issued, refused, deemed_approved
    review_cycles: int = 1
    stops: list[tuple[date, date | None]] = field(default_factory=list)
    built_area_m2: float | None = None
    dwellings: int | None = None
    opinions: list[tuple[int, date, date]] = field(default_factory=list)  # organisation, from, to

    @property
    def ended_on(self) -> date | None:
        return self.decided_on or self.inadmissible_on or self.withdrawn_on

    @property
    def group(self) -> tuple[int, int, str]:
        return self.commune_id, self.procedure.pk, self.classification


def _number(figures: dict, name: str, kind: type) -> float | int | None:
    try:
        value = figures.get(name)
        return kind(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def dossier_milestones(*, until: date | None = None) -> list[Milestones]:
    """Every filed dossier's milestones (filed on or before ``until``), read in a constant number of queries."""
    from permits.models import Dossier

    qs = Dossier.objects.filter(submitted_at__isnull=False).select_related("procedure")
    qs = qs.prefetch_related("clock_stops", "events")
    if until is not None:
        qs = qs.filter(submitted_at__date__lte=until)
    sent: dict[tuple[int, int], date] = {
        (m.dossier_id, m.organisation_id): m.file_sent_on
        for m in DossierMember.objects.filter(file_sent_on__isnull=False).only(
            "dossier_id", "organisation_id", "file_sent_on"
        )
    }
    opinions: dict[int, list[Opinion]] = defaultdict(list)
    for opinion in Opinion.objects.select_related("session").order_by("review_round", "id"):
        opinions[opinion.dossier_id].append(opinion)
    result = []
    for dossier in qs.order_by("pk"):
        result.append(_milestones(dossier, sent=sent, opinions=opinions.get(dossier.pk, [])))
    return result


def _event_dates(dossier) -> dict[str, date]:
    """The last day the timeline shows the dossier entering each status.

    An event recorded after the day of the dossier's last status change was not recorded when it
    happened (a backdated import or demo) and is not used.
    """
    trusted_until = timezone.localdate(dossier.status_changed_at)
    days: dict[str, date] = {}
    for event in dossier.events.all():
        recorded = timezone.localdate(event.created_at)
        if event.to_status and recorded <= trusted_until:
            days[event.to_status] = recorded
    return days


def _opinion_day(opinion: Opinion) -> date:
    """An opinion is given at its session when it has one, else on the day it was recorded."""
    return opinion.session.date if opinion.session_id else timezone.localdate(opinion.created_at)


def _milestones(dossier, *, sent: dict[tuple[int, int], date], opinions: list[Opinion]) -> Milestones:
    events = _event_dates(dossier)
    status = dossier.status
    changed_on = timezone.localdate(dossier.status_changed_at)
    figures = dossier.figures or {}
    m = Milestones(
        dossier_id=dossier.pk,
        commune_id=dossier.commune_id,
        procedure=dossier.procedure,
        classification=dossier.classification or "",
        filed_on=timezone.localdate(dossier.submitted_at),
        accepted_on=dossier.accepted_on,
        review_cycles=dossier.review_round,
        stops=[(stop.stopped_on, stop.resumed_on) for stop in dossier.clock_stops.all()],
        built_area_m2=_number(figures, "built_area_m2", float),
        dwellings=_number(figures, "dwellings", int),
    )
    if status == Status.INADMISSIBLE:
        m.inadmissible_on = changed_on
    if status == Status.WITHDRAWN:
        m.withdrawn_on = changed_on
    if status in DECIDED_STATUSES and dossier.decided_at:
        m.decided_on = timezone.localdate(dossier.decided_at)
        m.outcome = "issued" if status in ISSUED_STATUSES else status
    # The committee's opinion: the timeline's last favourable/unfavourable opinion, else the day the last
    # round's last opinion was given.
    dates = [events[s] for s in (Status.FAVOURABLE, Status.UNFAVOURABLE) if s in events]
    last_round = [o for o in opinions if o.review_round == dossier.review_round]
    if dates:
        m.committee_on = max(dates)
    elif last_round and status in AFTER_COMMITTEE:
        m.committee_on = max(_opinion_day(o) for o in last_round)
    if m.committee_on and m.decided_on and m.committee_on > m.decided_on:
        m.committee_on = None  # a timeline written after the fact cannot be trusted for this stage
    # Each opinion's delay runs from the day the file reached the institution (round 1) or from the
    # resubmission (later rounds) to the day the opinion was given.
    resumed = sorted(stop[1] for stop in m.stops if stop[1])
    for opinion in opinions:
        if opinion.review_round == 1:
            start = sent.get((dossier.pk, opinion.organisation_id)) or m.accepted_on
        else:
            start = resumed[opinion.review_round - 2] if len(resumed) >= opinion.review_round - 1 else None
        if start is not None:
            m.opinions.append((opinion.organisation_id, start, _opinion_day(opinion)))
    return m


def _stopped_working_days(m: Milestones, start: date, end: date, calendar: WorkingCalendar) -> int:
    """Working days of ``(start, end]`` during which the clock was stopped."""
    total = 0
    for stopped_on, resumed_on in m.stops:
        a, b = max(stopped_on, start), min(resumed_on or end, end)
        if b > a:
            total += calendar.working_days_between(a, b)
    return total


def _clock_days(m: Milestones, start: date, end: date, calendar: WorkingCalendar) -> int:
    return max(calendar.working_days_between(start, end) - _stopped_working_days(m, start, end, calendar), 0)


@dataclass(frozen=True)
class Observation:
    day: date
    group: tuple[int, int, str]
    measure: str
    working_days: int
    dossier_id: int
    organisation_id: int | None = None


def dossier_observations(m: Milestones, calendar: WorkingCalendar) -> list[Observation]:
    """The delays of one dossier, each on the day it ended."""
    found: list[Observation] = []

    def add(day: date, measure: str, days: int, organisation_id: int | None = None) -> None:
        found.append(Observation(day, m.group, measure, days, m.dossier_id, organisation_id))

    Measure = DelayObservation.Measure
    admissibility = m.accepted_on or m.inadmissible_on
    if m.filed_on and admissibility:
        add(admissibility, Measure.COMPLETENESS, calendar.working_days_between(m.filed_on, admissibility))
    if m.accepted_on and m.committee_on:
        add(m.committee_on, Measure.REVIEW, _clock_days(m, m.accepted_on, m.committee_on, calendar))
    if m.committee_on and m.decided_on:
        add(m.decided_on, Measure.DECISION, calendar.working_days_between(m.committee_on, m.decided_on))
    if m.accepted_on and m.decided_on:
        add(m.decided_on, Measure.OVERALL, _clock_days(m, m.accepted_on, m.decided_on, calendar))
    for organisation_id, start, end in m.opinions:
        add(end, Measure.OPINION, calendar.working_days_between(start, end), organisation_id)
    return found


@dataclass(frozen=True)
class IndicatorRun:
    """What one run wrote."""

    days: tuple[date, ...]
    indicators: int
    observations: int


def _summary_rows(prefix: str, values: list[float]) -> list[tuple[str, float, int]]:
    if not values:
        return []
    return [
        (f"{prefix}_mean", round(mean(values), 4), len(values)),
        (f"{prefix}_median", round(percentile(values, 0.5), 4), len(values)),
        (f"{prefix}_p90", round(percentile(values, 0.9), 4), len(values)),
    ]


def _day_rows(
    day: date, milestones: list[Milestones], observations: list[Observation], calendar: WorkingCalendar
) -> list[DailyIndicator]:
    """Every indicator row of one day (rows whose value would be zero for lack of dossiers are left out)."""
    counts: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    decided: dict[tuple, list[Milestones]] = defaultdict(list)
    for m in milestones:
        c = counts[m.group]
        c["filed"] += m.filed_on == day
        c["accepted"] += m.accepted_on == day
        c["inadmissible"] += m.inadmissible_on == day
        c["withdrawn"] += m.withdrawn_on == day
        if m.decided_on == day:
            c[m.outcome] += 1
            decided[m.group].append(m)
        c["backlog"] += bool(m.filed_on and m.filed_on <= day and (m.ended_on is None or m.ended_on > day))
    by_measure: dict[tuple, list[float]] = defaultdict(list)
    for o in observations:
        if o.day == day:
            by_measure[(o.group, o.measure, o.organisation_id)].append(o.working_days)
    rows: list[DailyIndicator] = []

    def row(group: tuple, metric: str, value: float, sample: int, organisation_id: int | None = None) -> None:
        commune_id, procedure_id, classification = group
        rows.append(
            DailyIndicator(
                day=day,
                commune_id=commune_id,
                procedure_id=procedure_id,
                classification=classification,
                organisation_id=organisation_id,
                metric=metric,
                value=value,
                sample=sample,
            )
        )

    for group, c in counts.items():
        for metric in COUNT_METRICS:
            if c.get(metric):
                row(group, metric, c[metric], c[metric])
    for (group, measure, organisation_id), values in by_measure.items():
        prefix = "opinion_delay" if measure == DelayObservation.Measure.OPINION else f"{measure}_delay"
        for metric, value, sample in _summary_rows(prefix, values):
            row(group, metric, value, sample, organisation_id)
    for group, items in decided.items():
        with_clock = [m for m in items if m.accepted_on]
        deadlines = [
            (m, legal_instruction_days(m.procedure)) for m in with_clock if legal_instruction_days(m.procedure)
        ]
        if deadlines:
            within = sum(_clock_days(m, m.accepted_on, m.decided_on, calendar) <= days for m, days in deadlines)
            row(group, "within_deadline_share", round(within / len(deadlines), 4), len(deadlines))
        row(group, "review_cycles_mean", round(mean(m.review_cycles for m in items), 4), len(items))
        waits = [_stopped_working_days(m, m.filed_on, m.decided_on, calendar) for m in items if m.filed_on]
        if waits:
            row(group, "applicant_wait_days_mean", round(mean(waits), 4), len(waits))
        granted = [m for m in items if m.outcome in ("issued", Status.DEEMED_APPROVED)]
        area = [m.built_area_m2 for m in granted if m.built_area_m2 is not None]
        if area:
            row(group, "authorised_built_area_m2", round(sum(area), 2), len(area))
        dwellings = [m.dwellings for m in granted if m.dwellings is not None]
        if dwellings:
            row(group, "authorised_dwellings", sum(dwellings), len(dwellings))
    return rows


def indicators_compute(*, days: Iterable[date], calendar: WorkingCalendar | None = None) -> IndicatorRun:
    """Compute and store the indicators of each day in ``days``; the days' rows are replaced in one transaction."""
    days = sorted(set(days))
    if not days:
        return IndicatorRun(days=(), indicators=0, observations=0)
    calendar = calendar or WorkingCalendar()
    milestones = dossier_milestones(until=days[-1])
    observations = [o for m in milestones for o in dossier_observations(m, calendar)]
    by_day: dict[date, list[Observation]] = defaultdict(list)
    for o in observations:
        by_day[o.day].append(o)
    rows: list[DailyIndicator] = []
    for day in days:
        current = [m for m in milestones if m.filed_on and m.filed_on <= day]
        rows += _day_rows(day, current, by_day.get(day, []), calendar)
    wanted = set(days)
    stored = [
        DelayObservation(
            day=o.day,
            commune_id=o.group[0],
            procedure_id=o.group[1],
            classification=o.group[2],
            organisation_id=o.organisation_id,
            dossier_id=o.dossier_id,
            measure=o.measure,
            working_days=o.working_days,
        )
        for o in observations
        if o.day in wanted
    ]
    # The days' rows are replaced together: a reader sees the old rows or the new ones, never a mix.
    with transaction.atomic():
        DailyIndicator.objects.filter(day__in=days).delete()
        DelayObservation.objects.filter(day__in=days).delete()
        DailyIndicator.objects.bulk_create(rows, batch_size=5000)
        DelayObservation.objects.bulk_create(stored, batch_size=5000)
    written_rows, written_observations = len(rows), len(stored)
    return IndicatorRun(days=tuple(days), indicators=written_rows, observations=written_observations)


def indicators_compute_range(*, start: date, end: date) -> IndicatorRun:
    """Every day from ``start`` to ``end`` included (a history, or the days a stopped worker missed)."""
    return indicators_compute(days=[start + timedelta(days=n) for n in range((end - start).days + 1)])


def first_filing_day() -> date | None:
    """The day the first dossier was filed (where a full history starts)."""
    from permits.models import Dossier

    first = Dossier.objects.filter(submitted_at__isnull=False).order_by("submitted_at").first()
    return timezone.localdate(first.submitted_at) if first else None
