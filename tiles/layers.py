"""The catalogue of published layers: one place that says what the geo-portal serves, to whom, with which fields.

WFS (``/wfs``), OGC API – Features (``/ogcapi/``), vector tiles (``/tiles/``), exports (``export_layer``,
``/exports/``) and the open-data datasets all read this list, so a field that is not named here is never
published anywhere. Public layers carry no personal data; the internal ``dossiers`` layer is for signed-in
staff with the planner, desk, committee or administrator role and still carries no ID numbers, phones or
e-mails (applicants are not even named).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Model, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from permits.roles import Role, user_has_role


@dataclass(frozen=True)
class PublishedField:
    """One attribute of a published layer: its public name and where it comes from (an ORM path)."""

    name: str
    source: str
    title: Promise | str = ""


@dataclass(frozen=True)
class PublishedLayer:
    """A layer of the geo-portal."""

    name: str
    title: Promise | str
    model_label: str  # "app_label.ModelName"
    fields: tuple[PublishedField, ...]
    geometry_field: str = "geom"
    id_field: str = "pk"
    internal: bool = False
    date_field: str | None = None  # the field a time filter (datetime=, --since, time slider) applies to
    commune_field: str | None = None  # the ORM path to the commune's AdminArea (for --commune and filters)
    queryset_filter: Callable[[QuerySet], QuerySet] = field(default=lambda qs: qs)

    @property
    def model(self) -> type[Model]:
        from django.apps import apps

        return apps.get_model(self.model_label)

    def queryset(self) -> QuerySet:
        """Every feature of the layer, with only the related rows the fields need."""
        qs = self.model.objects.all()
        related = sorted({f.source.rsplit("__", 1)[0] for f in self.fields if "__" in f.source})
        if related:
            qs = qs.select_related(*related)
        return self.queryset_filter(qs)


def _f(name: str, source: str | None = None, title: Promise | str = "") -> PublishedField:
    return PublishedField(name=name, source=source or name, title=title)


LAYERS: tuple[PublishedLayer, ...] = (
    PublishedLayer(
        name="authorised_works",
        title=_("Authorised works"),
        model_label="geo.AuthorisedWork",
        fields=(
            _f("reference", title=_("permit reference")),
            _f("procedure_code", title=_("procedure")),
            _f("procedure_name", title=_("procedure name")),
            _f("commune_code", "commune__code", _("commune")),
            _f("commune_name", "commune__name_fr", _("commune name")),
            _f("decision_date", title=_("decision date")),
            _f("floors", title=_("floors")),
            _f("use", title=_("use")),
            _f("built_area_m2", title=_("built area (m²)")),
            _f("dwellings", title=_("dwellings")),
            _f("status", title=_("status")),
            _f("verification_code", title=_("verification code")),
            _f("updated_at", title=_("updated at")),
        ),
        date_field="decision_date",
        commune_field="commune",
    ),
    PublishedLayer(
        name="parcels",
        title=_("Parcels"),
        model_label="geo.Parcel",
        fields=(
            _f("reference", title=_("land-title reference")),
            _f("commune_code", "commune__code", _("commune")),
            _f("area_m2", title=_("area (m²)")),
            _f("updated_at", title=_("updated at")),
        ),
        date_field="updated_at",
        commune_field="commune",
    ),
    PublishedLayer(
        name="zoning",
        title=_("Zoning"),
        model_label="geo.ZoningZone",
        fields=(
            _f("plan_code", "plan__code", _("zoning plan")),
            _f("zone_code", "regulation__zone_code", _("zone code")),
            _f("zone_label", "regulation__label", _("label")),
            _f("max_height_m", "regulation__max_height_m", _("maximum height (m)")),
            _f("max_floors", "regulation__max_floors", _("maximum floors")),
            _f("coverage_ratio", "regulation__coverage_ratio", _("maximum coverage ratio (CES)")),
            _f("floor_area_ratio", "regulation__floor_area_ratio", _("maximum floor-area ratio (COS)")),
            _f("min_setback_m", "regulation__min_setback_m", _("minimum setback (m)")),
        ),
        commune_field="plan__commune",
    ),
    PublishedLayer(
        name="constraints",
        title=_("Constraints and servitudes"),
        model_label="geo.ConstraintArea",
        fields=(
            _f("kind", title=_("kind")),
            _f("name", title=_("name")),
            _f("description", title=_("description")),
        ),
    ),
    PublishedLayer(
        name="admin_areas",
        title=_("Administrative areas"),
        model_label="geo.AdminArea",
        fields=(
            _f("code", title=_("official code")),
            _f("level", title=_("level")),
            _f("name_fr", title=_("name (French)")),
            _f("name_ar", title=_("name (Arabic)")),
            _f("parent_code", "parent__code", _("parent")),
        ),
    ),
    PublishedLayer(
        name="dossiers",
        title=_("Dossiers (internal)"),
        model_label="permits.Dossier",
        fields=(
            _f("reference", title=_("reference")),
            _f("procedure_code", "procedure__code", _("procedure")),
            _f("commune_code", "commune__code", _("commune")),
            _f("status", title=_("status")),
            _f("classification", title=_("classification")),
            _f("review_round", title=_("review round")),
            _f("submitted_at", title=_("submitted at")),
            _f("accepted_on", title=_("accepted on")),
            _f("session_date", title=_("committee date")),
            _f("decided_at", title=_("decided at")),
            _f("status_changed_at", title=_("status changed at")),
        ),
        geometry_field="site",
        internal=True,
        date_field="submitted_at",
        commune_field="commune",
        # Drafts are the filer's own work in progress; a dossier without a site has no place on a map.
        queryset_filter=lambda qs: qs.exclude(status="draft").exclude(site__isnull=True),
    ),
)

# Roles that may read the internal layers (signed in; MFA where required).
INTERNAL_READERS = (
    Role.PLANNER,
    Role.DESK_AGENT,
    Role.COMMITTEE_MEMBER,
    Role.COMMITTEE_PRESIDENT,
    Role.SIGNING_AUTHORITY,
    Role.INSPECTOR,
    Role.ADMIN,
)


def may_read_internal(user) -> bool:
    """Whether ``user`` may see the internal layers (in capabilities, collections, tiles and exports)."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or user_has_role(user, *INTERNAL_READERS)


def layers_for(user) -> list[PublishedLayer]:
    """The layers ``user`` may see, public ones first, in catalogue order."""
    internal = may_read_internal(user)
    return [layer for layer in LAYERS if internal or not layer.internal]


def layer_named(name: str, *, user) -> PublishedLayer | None:
    """The layer called ``name`` if ``user`` may see it, else None (unknown and forbidden look the same)."""
    for layer in layers_for(user):
        if layer.name == name:
            return layer
    return None
