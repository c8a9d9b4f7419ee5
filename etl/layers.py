"""What each importable layer is: its target fields, natural key and the source names tried by default.

This is data, not code: adding a target field or a default source name is one line here. A user's
``--map target=source`` always wins over the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TargetField:
    """One field of our model that a source attribute can fill."""

    name: str
    kind: str = "text"  # text | float | int | list
    required: bool = False
    # Source attribute names tried in order when the user gives no --map for this field.
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class LayerSpec:
    """An importable layer: the natural key decides create vs update."""

    name: str
    key: str
    fields: tuple[TargetField, ...] = field(default_factory=tuple)
    keep_attributes: bool = False

    def field(self, name: str) -> TargetField:
        return next(f for f in self.fields if f.name == name)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


ADMIN_AREAS = LayerSpec(
    name="admin_areas",
    key="code",
    fields=(
        TargetField("code", required=True, candidates=("code", "CODE", "id", "ID", "ref", "iso", "ISO3166-2")),
        TargetField("name_fr", candidates=("name_fr", "NAME_FR", "nom", "NOM", "name:fr", "name")),
        TargetField("name_ar", candidates=("name_ar", "NAME_AR", "name:ar", "nom_ar")),
        TargetField("level", candidates=("level", "LEVEL", "niveau")),
        TargetField("parent_code", candidates=("parent_code", "PARENT", "parent")),
        TargetField("projected_srid", kind="int", candidates=("projected_srid", "srid")),
    ),
)

PARCELS = LayerSpec(
    name="parcels",
    key="reference",
    keep_attributes=True,
    fields=(
        TargetField(
            "reference",
            required=True,
            candidates=(
                "reference",
                "REFERENCE",
                "ref",
                "titre_foncier",
                "TF",
                "nationalCadastralReference",
                "localId",
            ),
        ),
        TargetField("commune_code", candidates=("commune_code", "commune", "COMMUNE")),
    ),
)

ZONING = LayerSpec(
    name="zoning",
    key="source_key",
    fields=(
        TargetField("source_key", candidates=("source_key", "GlobalID", "gml_id", "localId", "id", "ID")),
        TargetField("zone_code", required=True, candidates=("zone_code", "ZONE_TYPE", "zone", "ZONE", "code", "label")),
        TargetField("label", candidates=("label", "LABEL", "libelle", "description")),
        TargetField("max_height_m", kind="float", candidates=("max_height_m", "hauteur_max", "max_height")),
        TargetField("max_floors", kind="int", candidates=("max_floors", "niveaux_max", "floors")),
        TargetField("coverage_ratio", kind="float", candidates=("coverage_ratio", "CES", "ces")),
        TargetField("floor_area_ratio", kind="float", candidates=("floor_area_ratio", "COS", "cos")),
        TargetField("min_setback_m", kind="float", candidates=("min_setback_m", "recul_min", "setback")),
        TargetField("allowed_uses", kind="list", candidates=("allowed_uses", "usages")),
    ),
)

CONSTRAINTS = LayerSpec(
    name="constraints",
    key="source_key",
    fields=(
        TargetField("source_key", candidates=("source_key", "GlobalID", "gml_id", "id", "ID")),
        TargetField("kind", candidates=("kind", "KIND", "type", "TYPE")),
        TargetField("name", candidates=("name", "NAME", "nom", "NOM")),
        TargetField("description", candidates=("description", "DESCRIPTION")),
    ),
)

LAYERS: dict[str, LayerSpec] = {spec.name: spec for spec in (ADMIN_AREAS, PARCELS, ZONING, CONSTRAINTS)}
