"""The catalogue as data: procedures and GP rules, organisations, member-selection rules and committees.

The files live in ``permits/data``: ``procedures.json`` and ``classification_rules.json`` (procedures,
checklists, large-project rules), ``organisations.json`` and ``selection_rules.json`` (the bodies that
sit on committees and the rules that bring a non-permanent one onto a dossier), ``committees.json``
(each commune's council and committees, keyed by commune code, loaded once the commune exists).

:func:`procedure_catalogue_load` upserts the procedures (with their checklists) and the large-project
rules; :func:`committee_catalogue_load` the organisations, the selection rules and the committees of
the communes that exist. Both take the model classes as arguments so that the data migrations (``0003``,
``0005``) can pass their historical models and the commands (``load_procedures``, ``load_committees``)
the current ones.

The file is the source of truth on load, for the codes it lists:

- a procedure, checklist item or rule listed in the file gets the file's values, overwriting what an
  administrator changed in the admin since the last load (edit the file to make a change last);
- a checklist item of a listed procedure that the file no longer lists is deleted, unless documents or
  completeness reviews already point to it (the legal record): then it is kept and counted as such;
- procedures and rules the file does not list (created in the admin) are left alone;
- the ``active`` switches (a procedure open for filing, a rule in force) belong to the administrator:
  the file does not carry them, and a load never changes them on an existing row.

A second load with an unchanged file writes nothing. Only fields the given model has are written, so a
historical model that predates a new key simply ignores it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Model, ProtectedError

DATA_DIR = Path(__file__).resolve().parent / "data"
PROCEDURES_FILE = "procedures.json"
RULES_FILE = "classification_rules.json"

# Keys of a procedure in the file that are not model fields (its checklist is loaded separately).
_PROCEDURE_EXTRA_KEYS = {"checklist", "note"}
# Fields the file never overwrites on an existing row.
_ADMIN_OWNED = {"active"}


class CatalogueError(Exception):
    """The data files are malformed; the message names the file and the entry."""


@dataclass
class CatalogueCounts:
    """What one load found and wrote."""

    procedures: int = 0
    procedures_created: int = 0
    procedures_updated: int = 0
    items: int = 0
    items_created: int = 0
    items_updated: int = 0
    items_deleted: int = 0
    items_kept_in_use: int = 0
    rules: int = 0
    rules_created: int = 0
    rules_updated: int = 0

    @property
    def changed(self) -> bool:
        """True when the load wrote anything."""
        return any(
            (
                self.procedures_created,
                self.procedures_updated,
                self.items_created,
                self.items_updated,
                self.items_deleted,
                self.rules_created,
                self.rules_updated,
            )
        )


def _read(path: Path, key: str) -> list[dict[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogueError(f"{path}: {exc}") from exc
    entries = document.get(key) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise CatalogueError(f"{path}: expected an object with a list under {key!r}")
    codes = [entry.get("code") for entry in entries]
    if any(not code for code in codes) or len(set(codes)) != len(codes):
        raise CatalogueError(f"{path}: every entry needs a code, and codes must be unique")
    return entries


def _field_names(model: type[Model]) -> set[str]:
    return {field.name for field in model._meta.concrete_fields}


def _upsert(model: type[Model], lookup: dict[str, Any], values: dict[str, Any]) -> tuple[Model, bool, bool]:
    """Create or update one row; returns (row, created, updated) and writes only when something differs."""
    fields = _field_names(model)
    values = {name: value for name, value in values.items() if name in fields}
    row = model._default_manager.filter(**lookup).first()
    if row is None:
        return model._default_manager.create(**lookup, **values), True, False
    changed = [name for name, value in values.items() if name not in _ADMIN_OWNED and getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    if changed:
        row.save(update_fields=changed)
    return row, False, bool(changed)


def _load_checklist(
    *, checklist_model: type[Model], procedure: Model, items: list[dict[str, Any]], counts: CatalogueCounts
) -> None:
    codes = [item.get("code") for item in items]
    if any(not code for code in codes) or len(set(codes)) != len(codes):
        raise CatalogueError(f"{procedure.code}: checklist codes must be present and unique")
    for position, item in enumerate(items):
        values = {key: value for key, value in item.items() if key not in {"code", "name"}}
        values.update(
            name_fr=item["name"]["fr"], name_ar=item["name"]["ar"], name_en=item["name"]["en"], position=position
        )
        _, created, updated = _upsert(checklist_model, {"procedure": procedure, "code": item["code"]}, values)
        counts.items += 1
        counts.items_created += created
        counts.items_updated += updated
    for stale in checklist_model._default_manager.filter(procedure=procedure).exclude(code__in=codes):
        try:
            # PROTECT is checked while collecting, before any SQL DELETE: a refusal leaves the
            # transaction usable.
            stale.delete()
            counts.items_deleted += 1
        except ProtectedError:
            counts.items_kept_in_use += 1


def procedure_catalogue_load(
    *,
    procedure_model: type[Model],
    checklist_model: type[Model],
    rule_model: type[Model],
    data_dir: Path = DATA_DIR,
) -> CatalogueCounts:
    """Upsert procedures, checklists and large-project rules from ``data_dir`` in one transaction."""
    procedures = _read(Path(data_dir) / PROCEDURES_FILE, "procedures")
    rules = _read(Path(data_dir) / RULES_FILE, "rules")
    counts = CatalogueCounts()
    with transaction.atomic():
        for position, entry in enumerate(procedures):
            values = {key: value for key, value in entry.items() if key not in _PROCEDURE_EXTRA_KEYS | {"code"}}
            values["position"] = position
            procedure, created, updated = _upsert(procedure_model, {"code": entry["code"]}, values)
            counts.procedures += 1
            counts.procedures_created += created
            counts.procedures_updated += updated
            _load_checklist(
                checklist_model=checklist_model, procedure=procedure, items=entry.get("checklist", []), counts=counts
            )
        for position, entry in enumerate(rules):
            values = {key: value for key, value in entry.items() if key != "code"}
            values["position"] = position
            _, created, updated = _upsert(rule_model, {"code": entry["code"]}, values)
            counts.rules += 1
            counts.rules_created += created
            counts.rules_updated += updated
    return counts


def catalogue_load() -> CatalogueCounts:
    """Load the shipped catalogue into the current models (the command and the demo use this)."""
    from permits.models import ChecklistItem, ClassificationRule, Procedure

    return procedure_catalogue_load(
        procedure_model=Procedure, checklist_model=ChecklistItem, rule_model=ClassificationRule
    )


# --- committees: organisations, member-selection rules, each commune's committees ----------------

ORGANISATIONS_FILE = "organisations.json"
SELECTION_RULES_FILE = "selection_rules.json"
COMMITTEES_FILE = "committees.json"

# Operators a member-selection condition may use: the GP rules' operators plus ``intersects``, which
# only applies to ``constraint_kind`` (the site touches a constraint area of that kind).
SELECTION_OPS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "true", "intersects"})
# Fields that are not declared figures: the dossier's procedure code, its GP/PP class, the constraints.
SELECTION_DOSSIER_FIELDS = frozenset({"procedure", "classification", "constraint_kind"})


@dataclass
class CommitteeCatalogueCounts:
    """What one committee-catalogue load found and wrote; ``communes_missing`` lists templates skipped."""

    organisations: int = 0
    organisations_created: int = 0
    organisations_updated: int = 0
    rules: int = 0
    rules_created: int = 0
    rules_updated: int = 0
    committees: int = 0
    committees_created: int = 0
    committees_updated: int = 0
    communes_loaded: list[str] | None = None
    communes_missing: list[str] | None = None

    @property
    def changed(self) -> bool:
        """True when the load wrote anything."""
        return any(
            (
                self.organisations_created,
                self.organisations_updated,
                self.rules_created,
                self.rules_updated,
                self.committees_created,
                self.committees_updated,
            )
        )


def _read_document(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogueError(f"{path}: {exc}") from exc
    if not isinstance(document, dict):
        raise CatalogueError(f"{path}: expected a JSON object")
    return document


def _check_names(path: Path, entry: dict[str, Any], prefix: str) -> None:
    for language in ("fr", "ar", "en"):
        if not str(entry.get(f"{prefix}_{language}") or "").strip():
            raise CatalogueError(f"{path}: {entry['code']} has no {prefix}_{language}")


def _check_conditions(path: Path, rule: dict[str, Any]) -> None:
    from geo.models import ConstraintKind

    conditions = rule.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        raise CatalogueError(f"{path}: rule {rule['code']} needs at least one condition")
    for condition in conditions:
        field, op = condition.get("field"), condition.get("op")
        if not field or op not in SELECTION_OPS:
            raise CatalogueError(f"{path}: rule {rule['code']}: condition {condition} needs a field and a known op")
        if (op == "intersects") != (field == "constraint_kind"):
            raise CatalogueError(f"{path}: rule {rule['code']}: 'intersects' goes with 'constraint_kind' only")
        if op == "intersects" and condition.get("value") not in ConstraintKind.values:
            raise CatalogueError(f"{path}: rule {rule['code']}: unknown constraint kind {condition.get('value')!r}")


def _time(value: str, where: str) -> time:
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise CatalogueError(f"{where}: start_time {value!r} is not HH:MM") from exc


def _load_organisations(
    model: type[Model], entries: list[dict[str, Any]], path: Path, counts: CommitteeCatalogueCounts
) -> None:
    for entry in entries:
        _check_names(path, entry, "name")
        values = {key: value for key, value in entry.items() if key != "code"}
        _, created, updated = _upsert(model, {"code": entry["code"]}, values)
        counts.organisations += 1
        counts.organisations_created += created
        counts.organisations_updated += updated


def _organisation(model: type[Model], code: str, where: str) -> Model:
    organisation = model._default_manager.filter(code=code).first()
    if organisation is None:
        raise CatalogueError(f"{where}: unknown organisation {code!r}")
    return organisation


def _load_committees(
    *,
    organisation_model: type[Model],
    committee_model: type[Model],
    commune: Model,
    entries: list[dict[str, Any]],
    path: Path,
    counts: CommitteeCatalogueCounts,
) -> None:
    for entry in entries:
        where = f"{path}: committee {entry.get('code')}"
        _check_names(path, entry, "name")
        codes = entry.get("permanent_organisations", [])
        permanent = [_organisation(organisation_model, code, where) for code in codes]
        if not permanent:
            raise CatalogueError(f"{where}: a committee needs permanent organisations")
        values = {key: value for key, value in entry.items() if key not in {"code", "permanent_organisations"}}
        values.update(commune=commune, start_time=_time(entry.get("start_time"), where))
        committee, created, updated = _upsert(committee_model, {"code": entry["code"]}, values)
        wanted = {organisation.pk for organisation in permanent}
        if set(committee.permanent_organisations.values_list("pk", flat=True)) != wanted:
            committee.permanent_organisations.set(permanent)
            updated = not created
        counts.committees += 1
        counts.committees_created += created
        counts.committees_updated += updated


def committee_catalogue_load(
    *,
    organisation_model: type[Model],
    rule_model: type[Model],
    committee_model: type[Model] | None = None,
    area_model: type[Model] | None = None,
    communes: list[str] | None = None,
    data_dir: Path = DATA_DIR,
) -> CommitteeCatalogueCounts:
    """Upsert organisations and member-selection rules, then the committees of every commune that exists.

    Follows the rules of :func:`procedure_catalogue_load` (upsert by code, the file wins for what it
    lists, ``active`` belongs to the administrator, a second load writes nothing). A committee's
    permanent organisations are those of the file; its president is never touched (an account, chosen
    in the admin). Committees are loaded only when ``committee_model`` and ``area_model`` are given,
    for the communes of ``communes`` (all templates when ``None``) that exist in ``area_model``; the
    others are reported in ``communes_missing``.
    """
    data_dir = Path(data_dir)
    organisations_path = data_dir / ORGANISATIONS_FILE
    rules_path = data_dir / SELECTION_RULES_FILE
    committees_path = data_dir / COMMITTEES_FILE
    organisations = _read(organisations_path, "organisations")
    rules = _read(rules_path, "rules")
    templates = _read_document(committees_path).get("communes")
    if not isinstance(templates, dict):
        raise CatalogueError(f"{committees_path}: expected an object with communes keyed by commune code")
    counts = CommitteeCatalogueCounts(communes_loaded=[], communes_missing=[])
    with transaction.atomic():
        _load_organisations(organisation_model, organisations, organisations_path, counts)
        for position, entry in enumerate(rules):
            _check_names(rules_path, entry, "label")
            _check_conditions(rules_path, entry)
            values = {key: value for key, value in entry.items() if key != "code"}
            values.update(
                position=position,
                organisation=_organisation(organisation_model, entry.get("organisation"), f"{rules_path}: rule"),
            )
            _, created, updated = _upsert(rule_model, {"code": entry["code"]}, values)
            counts.rules += 1
            counts.rules_created += created
            counts.rules_updated += updated
        if committee_model is None or area_model is None:
            return counts
        for commune_code, template in templates.items():
            if communes is not None and commune_code not in communes:
                continue
            commune = area_model._default_manager.filter(code=commune_code).first()
            if commune is None:
                counts.communes_missing.append(commune_code)
                continue
            _load_organisations(organisation_model, template.get("organisations", []), committees_path, counts)
            _load_committees(
                organisation_model=organisation_model,
                committee_model=committee_model,
                commune=commune,
                entries=template.get("committees", []),
                path=committees_path,
                counts=counts,
            )
            counts.communes_loaded.append(commune_code)
    return counts


def committee_catalogue_load_current(*, communes: list[str] | None = None) -> CommitteeCatalogueCounts:
    """Load the shipped committee catalogue into the current models (the command and the demo use this)."""
    from geo.models import AdminArea
    from permits.models import Committee, Organisation, SelectionRule

    return committee_catalogue_load(
        organisation_model=Organisation,
        rule_model=SelectionRule,
        committee_model=Committee,
        area_model=AdminArea,
        communes=communes,
    )
