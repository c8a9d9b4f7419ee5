"""Reads of plan review: the versions a user may see, annotation threads, footprints of a version.

Every function is keyword-only and only reads. A version of a dossier the user may not see is None (the
caller answers 404). An annotation's thread is its replies and those of the annotations it was carried
from, oldest first, so the conversation follows the remark from version to version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from permits.selectors import dossier_list_visible_to
from plans.models import Annotation, AnnotationReply, FeatureKind, PlanFeature, PlanVersion


def annotation_get_visible(*, user, annotation_id: int) -> Annotation | None:
    """One annotation, if the user may see the dossier of its version."""
    annotation = (
        Annotation.objects.select_related("version__plan_set__dossier__applicant").filter(pk=annotation_id).first()
    )
    if annotation is None:
        return None
    if not dossier_list_visible_to(user=user).filter(pk=annotation.version.plan_set.dossier_id).exists():
        return None
    return annotation


def version_features(*, version: PlanVersion) -> QuerySet[PlanFeature]:
    """The footprints and site boundary extracted from a version."""
    return PlanFeature.objects.filter(version=version).order_by("kind", "pk")


def version_footprints(*, version: PlanVersion) -> QuerySet[PlanFeature]:
    return version_features(version=version).filter(kind=FeatureKind.FOOTPRINT)


@dataclass
class AnnotationThread:
    """An annotation of a version with every reply of its conversation (earlier versions included)."""

    annotation: Annotation
    replies: list[AnnotationReply] = field(default_factory=list)
    carried_from_version: int | None = None  # the version number the remark was first made on


def annotation_threads(*, version: PlanVersion) -> list[AnnotationThread]:
    """The annotations of a version, oldest first, each with its whole conversation (a few queries)."""
    annotations = list(
        Annotation.objects.filter(version=version)
        .select_related("author", "resolved_by", "version")
        .order_by("created_at", "pk")
    )
    chains: dict[int, list[int]] = {a.pk: [a.pk] for a in annotations}
    first_version: dict[int, int] = {}
    frontier = {a.pk: a.carried_from_id for a in annotations if a.carried_from_id}
    while frontier:
        parents = {
            pk: (parent_id, number)
            for pk, parent_id, number in Annotation.objects.filter(pk__in=set(frontier.values())).values_list(
                "pk", "carried_from_id", "version__number"
            )
        }
        next_frontier = {}
        for child, parent in frontier.items():
            chains[child].append(parent)
            parent_of_parent, number = parents[parent]
            first_version[child] = number
            if parent_of_parent:
                next_frontier[child] = parent_of_parent
        frontier = next_frontier
    owner = {pk: child for child, chain in chains.items() for pk in chain}
    threads = {a.pk: AnnotationThread(a, [], first_version.get(a.pk)) for a in annotations}
    replies = (
        AnnotationReply.objects.filter(annotation_id__in=owner.keys())
        .select_related("author")
        .order_by("created_at", "pk")
    )
    for answer in replies:
        threads[owner[answer.annotation_id]].replies.append(answer)
    return [threads[a.pk] for a in annotations]
