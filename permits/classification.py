"""Large/small project classification (GP/PP) from the declared figures, by rules stored as data.

The thresholds come from the 2013 construction regulation (décret 2-13-424): public or para-public
projects, buildings open to the public, commercial buildings over 500 m² or 5.50 m high, industrial
buildings other than small 3rd-category ones, buildings over 15.50 m (R+3) and housing programmes of
more than 20 dwellings are large projects; everything else is small. The rules live in
:class:`permits.models.ClassificationRule` (loaded by migration, editable in the admin).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from permits.models import Classification, ClassificationRule


@dataclass(frozen=True)
class ClassificationResult:
    """The class and the rule that decided it (a human sentence in the active language)."""

    classification: str
    rule_code: str
    reason: str


def _holds(condition: dict[str, Any], figures: dict[str, Any]) -> bool:
    value = figures.get(condition["field"])
    op, expected = condition.get("op", "eq"), condition.get("value")
    if op == "true":
        return value is True or str(value).lower() in {"true", "1", "yes", "on"}
    if op == "ne" and value in (None, ""):
        # An undeclared figure differs from any value: "industrial, unless a small 3rd-category unit"
        # must not turn an industrial project whose category is not given into a small project.
        return True
    if value is None or value == "":
        return False
    if op in {"gt", "gte", "lt", "lte"}:
        try:
            number, limit = float(value), float(expected)
        except (TypeError, ValueError):
            return False
        return {"gt": number > limit, "gte": number >= limit, "lt": number < limit, "lte": number <= limit}[op]
    if op == "ne":
        return str(value) != str(expected)
    return str(value) == str(expected)


def classify(*, figures: dict[str, Any], rules: list[ClassificationRule] | None = None) -> ClassificationResult:
    """GP when the first active rule whose conditions all hold fires; PP otherwise."""
    for rule in rules if rules is not None else ClassificationRule.objects.filter(active=True):
        if rule.conditions and all(_holds(c, figures) for c in rule.conditions):
            return ClassificationResult(Classification.LARGE, rule.code, rule.label)
    return ClassificationResult(
        Classification.SMALL, "small", _("Small project: none of the large-project rules applies.")
    )
