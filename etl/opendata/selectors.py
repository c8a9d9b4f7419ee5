"""Reads for the open-data page: headline figures, monthly series, rankings and the density grid.

Everything is read from the stored indicators (:class:`etl.models.DailyIndicator`) and delays
(:class:`etl.models.DelayObservation`) — the page never recomputes a dossier — and from the public
authorised works for the density map. Counts over a period are sums of daily counts; medians and
percentiles are taken over the period's own delays, never averaged from daily figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection
from django.db.models import Max, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from etl.models import DailyIndicator, DelayObservation
from etl.opendata.indicators import mean, percentile
from geo.models import AdminArea, AdminLevel
from permits.models import Organisation, Procedure

PERIODS = {"3m": 91, "6m": 182, "12m": 365, "all": None}
DEFAULT_PERIOD = "6m"
FLOW_METRICS = ("filed", "accepted", "inadmissible", "issued", "refused", "deemed_approved", "withdrawn")
DENSITY_CELL_M = 250
DENSITY_SRID = 26191


@dataclass
class OpenDataFilters:
    commune: AdminArea | None = None
    procedure: Procedure | None = None
    period: str = DEFAULT_PERIOD
    start: date | None = None
    end: date | None = None
    errors: list[str] = field(default_factory=list)

    def indicator_filter(self, prefix: str = "") -> dict:
        conditions: dict = {}
        if self.commune:
            conditions[f"{prefix}commune"] = self.commune
        if self.procedure:
            conditions[f"{prefix}procedure"] = self.procedure
        if self.start:
            conditions[f"{prefix}day__gte"] = self.start
        if self.end:
            conditions[f"{prefix}day__lte"] = self.end
        return conditions


def history_bounds() -> tuple[date | None, date | None]:
    bounds = DailyIndicator.objects.aggregate(first=Min("day"), last=Max("day"))
    return bounds["first"], bounds["last"]


def open_data_filters(*, params) -> OpenDataFilters:
    """The page's filters from the query string; an unknown value is reported and ignored."""
    filters = OpenDataFilters()
    code = (params.get("commune") or "").strip()
    if code:
        filters.commune = AdminArea.objects.filter(code=code, level=AdminLevel.COMMUNE).first()
        if filters.commune is None:
            filters.errors.append(_("Unknown commune “%(code)s”: showing every commune.") % {"code": code})
    code = (params.get("procedure") or "").strip()
    if code:
        filters.procedure = Procedure.objects.filter(code=code).first()
        if filters.procedure is None:
            filters.errors.append(_("Unknown procedure “%(code)s”: showing every procedure.") % {"code": code})
    period = (params.get("period") or DEFAULT_PERIOD).strip()
    if period not in PERIODS:
        filters.errors.append(_("Unknown period “%(period)s”: showing the last six months.") % {"period": period})
        period = DEFAULT_PERIOD
    filters.period = period
    _first, last = history_bounds()
    filters.end = last or timezone.localdate()
    days = PERIODS[period]
    filters.start = filters.end - timedelta(days=days - 1) if days else None
    return filters


def communes_with_indicators() -> list[AdminArea]:
    ids = DailyIndicator.objects.values_list("commune_id", flat=True).distinct()
    return list(AdminArea.objects.filter(pk__in=ids).order_by("name_fr"))


def procedures_with_indicators() -> list[Procedure]:
    ids = DailyIndicator.objects.values_list("procedure_id", flat=True).distinct()
    return list(Procedure.objects.filter(pk__in=ids).order_by("position", "code"))


@dataclass(frozen=True)
class DelaySummary:
    count: int
    mean: float | None
    median: float | None
    p90: float | None


def summarise(values: list[float]) -> DelaySummary:
    return DelaySummary(len(values), mean(values), percentile(values, 0.5), percentile(values, 0.9))


def _delays(filters: OpenDataFilters, measure: str, **more) -> list[float]:
    qs = DelayObservation.objects.filter(measure=measure, **filters.indicator_filter(), **more)
    return list(qs.values_list("working_days", flat=True))


def _weighted(filters: OpenDataFilters, metric: str) -> float | None:
    rows = DailyIndicator.objects.filter(metric=metric, organisation__isnull=True, **filters.indicator_filter())
    total = weight = 0.0
    for value, sample in rows.values_list("value", "sample"):
        total += value * sample
        weight += sample
    return total / weight if weight else None


@dataclass(frozen=True)
class Headline:
    counts: dict[str, int]
    backlog: int
    backlog_on: date | None
    delay: DelaySummary
    within_deadline_share: float | None
    review_cycles: float | None
    applicant_wait_days: float | None
    built_area_m2: float
    dwellings: int


def headline(filters: OpenDataFilters) -> Headline:
    base = DailyIndicator.objects.filter(organisation__isnull=True, **filters.indicator_filter())
    counts = {metric: 0 for metric in FLOW_METRICS}
    for row in base.filter(metric__in=FLOW_METRICS).values("metric").annotate(total=Sum("value")):
        counts[row["metric"]] = int(row["total"])
    backlog = int(base.filter(metric="backlog", day=filters.end).aggregate(total=Sum("value"))["total"] or 0)
    totals = {
        row["metric"]: row["total"]
        for row in base.filter(metric__in=["authorised_built_area_m2", "authorised_dwellings"])
        .values("metric")
        .annotate(total=Sum("value"))
    }
    return Headline(
        counts=counts,
        backlog=backlog,
        backlog_on=filters.end,
        delay=summarise(_delays(filters, DelayObservation.Measure.OVERALL)),
        within_deadline_share=_weighted(filters, "within_deadline_share"),
        review_cycles=_weighted(filters, "review_cycles_mean"),
        applicant_wait_days=_weighted(filters, "applicant_wait_days_mean"),
        built_area_m2=float(totals.get("authorised_built_area_m2") or 0),
        dwellings=int(totals.get("authorised_dwellings") or 0),
    )


@dataclass(frozen=True)
class MonthRow:
    month: date
    counts: dict[str, int]
    backlog: int
    median_delay: float | None
    decided: int


def monthly(filters: OpenDataFilters) -> list[MonthRow]:
    """Month by month over the period: flows, end-of-month backlog and the median overall delay."""
    base = DailyIndicator.objects.filter(organisation__isnull=True, **filters.indicator_filter())
    counts: dict[date, dict[str, int]] = defaultdict(lambda: {metric: 0 for metric in FLOW_METRICS})
    for day, metric, value in base.filter(metric__in=FLOW_METRICS).values_list("day", "metric", "value"):
        counts[day.replace(day=1)][metric] += int(value)
    backlog_by_day: dict[date, int] = defaultdict(int)
    for day, value in base.filter(metric="backlog").values_list("day", "value"):
        backlog_by_day[day] += int(value)
    delays: dict[date, list[float]] = defaultdict(list)
    overall = DelayObservation.objects.filter(measure=DelayObservation.Measure.OVERALL, **filters.indicator_filter())
    for day, days in overall.values_list("day", "working_days"):
        delays[day.replace(day=1)].append(days)
    months = sorted(set(counts) | set(delays) | {d.replace(day=1) for d in backlog_by_day})
    rows = []
    for month in months:
        in_month = [d for d in backlog_by_day if d.replace(day=1) == month]
        last = max(in_month) if in_month else None
        rows.append(
            MonthRow(
                month=month,
                counts=counts[month],
                backlog=backlog_by_day[last] if last else 0,
                median_delay=percentile(delays[month], 0.5),
                decided=len(delays[month]),
            )
        )
    return rows


def by_classification(filters: OpenDataFilters) -> list[tuple[str, DelaySummary]]:
    """Overall delays of large (GP) and small (PP) projects, and of procedures without the distinction."""
    groups: dict[str, list[float]] = defaultdict(list)
    overall = DelayObservation.objects.filter(measure=DelayObservation.Measure.OVERALL, **filters.indicator_filter())
    for classification, days in overall.values_list("classification", "working_days"):
        groups[classification].append(days)
    order = ["large", "small", ""]
    return [(key, summarise(groups[key])) for key in order if groups.get(key)]


def by_stage(filters: OpenDataFilters) -> list[tuple[str, DelaySummary]]:
    Measure = DelayObservation.Measure
    return [
        (measure, summarise(_delays(filters, measure)))
        for measure in (Measure.COMPLETENESS, Measure.REVIEW, Measure.DECISION, Measure.OVERALL)
    ]


@dataclass(frozen=True)
class CommuneRank:
    commune: AdminArea
    delay: DelaySummary
    within_deadline_share: float | None


def commune_ranking(filters: OpenDataFilters) -> list[CommuneRank]:
    """Communes from the shortest to the longest median delay (acceptance to decision)."""
    without_commune = OpenDataFilters(procedure=filters.procedure, start=filters.start, end=filters.end)
    groups: dict[int, list[float]] = defaultdict(list)
    overall = DelayObservation.objects.filter(
        measure=DelayObservation.Measure.OVERALL, **without_commune.indicator_filter()
    )
    for commune_id, days in overall.values_list("commune_id", "working_days"):
        groups[commune_id].append(days)
    communes = AdminArea.objects.in_bulk(list(groups))
    ranks = []
    for commune_id, values in groups.items():
        share_filter = OpenDataFilters(
            commune=communes[commune_id], procedure=filters.procedure, start=filters.start, end=filters.end
        )
        ranks.append(
            CommuneRank(communes[commune_id], summarise(values), _weighted(share_filter, "within_deadline_share"))
        )
    return sorted(ranks, key=lambda rank: (rank.delay.median or 0, rank.commune.code))


@dataclass(frozen=True)
class InstitutionDelay:
    organisation: Organisation
    delay: DelaySummary


def institution_delays(filters: OpenDataFilters) -> list[InstitutionDelay]:
    """Each institution's opinion delays, from the slowest median to the quickest."""
    groups: dict[int, list[float]] = defaultdict(list)
    opinions = DelayObservation.objects.filter(measure=DelayObservation.Measure.OPINION, **filters.indicator_filter())
    for organisation_id, days in opinions.values_list("organisation_id", "working_days"):
        groups[organisation_id].append(days)
    organisations = Organisation.objects.in_bulk(list(groups))
    rows = [InstitutionDelay(organisations[pk], summarise(values)) for pk, values in groups.items()]
    return sorted(rows, key=lambda row: (-(row.delay.median or 0), row.organisation.code))


@dataclass(frozen=True)
class DensityGrid:
    cell_m: int
    cells: list[tuple[float, float, int]]  # x, y (lower-left corner, EPSG:26191) and number of works
    extent: tuple[float, float, float, float] | None  # minx, miny, maxx, maxy of the communes shown
    outlines: list[list[list[tuple[float, float]]]]  # rings of the communes, EPSG:26191


def density_grid(filters: OpenDataFilters, *, cell_m: int = DENSITY_CELL_M) -> DensityGrid:
    """Authorised works per square cell of ``cell_m`` metres (ST_SquareGrid in EPSG:26191)."""
    where, params = ["TRUE"], []
    if filters.commune:
        where.append("w.commune_id = %s")
        params.append(filters.commune.pk)
    if filters.procedure:
        where.append("w.procedure_code = %s")
        params.append(filters.procedure.code)
    if filters.start:
        where.append("w.decision_date >= %s")
        params.append(filters.start)
    if filters.end:
        where.append("w.decision_date <= %s")
        params.append(filters.end)
    sql = f"""
        WITH works AS (
            SELECT ST_Transform(ST_PointOnSurface(w.geom), {DENSITY_SRID}) AS pt
            FROM geo_authorisedwork w WHERE {" AND ".join(where)}
        ), extent AS (SELECT ST_Extent(pt)::geometry AS box FROM works)
        SELECT ST_XMin(g.geom), ST_YMin(g.geom), COUNT(*)
        FROM extent, ST_SquareGrid(%s, ST_SetSRID(extent.box, {DENSITY_SRID})) AS g
        JOIN works ON ST_Intersects(works.pt, g.geom)
        WHERE extent.box IS NOT NULL
        GROUP BY g.geom ORDER BY 2, 1
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, cell_m])
        cells = [(float(x), float(y), int(n)) for x, y, n in cursor.fetchall()]
    communes = AdminArea.objects.filter(level=AdminLevel.COMMUNE)
    if filters.commune:
        communes = communes.filter(pk=filters.commune.pk)
    else:
        communes = communes.filter(pk__in=DailyIndicator.objects.values("commune_id"))
    outlines, bounds = [], []
    for commune in communes:
        geom = commune.geom.transform(DENSITY_SRID, clone=True).simplify(20, preserve_topology=True)
        bounds.append(geom.extent)
        for polygon in geom if geom.geom_type == "MultiPolygon" else [geom]:
            outlines.append([list(ring.coords) for ring in polygon])
    for x, y, _n in cells:
        bounds.append((x, y, x + cell_m, y + cell_m))
    extent = None
    if bounds:
        extent = (
            min(b[0] for b in bounds),
            min(b[1] for b in bounds),
            max(b[2] for b in bounds),
            max(b[3] for b in bounds),
        )
    return DensityGrid(cell_m=cell_m, cells=cells, extent=extent, outlines=outlines)
