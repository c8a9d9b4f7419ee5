"""The procedure catalogue as data: ``permits/data/procedures.json`` and ``classification_rules.json``.

:func:`procedure_catalogue_load` upserts the procedures (with their checklists) and the large-project
rules from those files. It takes the model classes as arguments so that the data migration ``0003``
can pass its historical models and ``manage.py load_procedures`` the current ones.

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
