"""The tamper-evident audit trail: append-only records, each holding the hash of the one before.

A record's hash is the SHA-256 of a canonical JSON of its fields and the previous hash, so changing,
removing or reordering any record breaks every hash after it; :func:`audit_verify` finds the first
broken record. Appends are serialised by a transaction-level advisory lock; a database trigger
(migration ``0002``) refuses UPDATE and DELETE on the table, and the application has no code path
that edits a record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from permits.models import AuditRecord

GENESIS_HASH = "0" * 64
# Serialises appends (arbitrary constant for pg_advisory_xact_lock).
_AUDIT_LOCK_KEY = 0x7A4D_0A0D


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _fields(record: AuditRecord) -> dict[str, Any]:
    return {
        "created_at": record.created_at.astimezone(UTC).isoformat(),
        "actor_id": record.actor_id,
        "actor_username": record.actor_username,
        "dossier_id": record.dossier_id,
        "action": record.action,
        "payload": record.payload,
        "previous_hash": record.previous_hash,
    }


def record_hash(record: AuditRecord) -> str:
    """The hash a record must carry, computed from its fields and its predecessor's hash."""
    return hashlib.sha256(_canonical(_fields(record))).hexdigest()


def audit_append(*, action: str, actor=None, dossier_id: int | None = None, payload: dict | None = None) -> AuditRecord:
    """Append one record to the chain (inside the caller's transaction, if any)."""
    clean_payload = json.loads(json.dumps(payload or {}, default=str))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK_KEY])
        previous = AuditRecord.objects.order_by("-id").values_list("record_hash", flat=True).first() or GENESIS_HASH
        record = AuditRecord(
            created_at=timezone.now(),
            actor_id=getattr(actor, "pk", None),
            actor_username=getattr(actor, "username", "") or "",
            dossier_id=dossier_id,
            action=action,
            payload=clean_payload,
            previous_hash=previous,
        )
        record.record_hash = record_hash(record)
        record.save(force_insert=True)
    return record


@dataclass(frozen=True)
class AuditVerdict:
    """The result of checking the whole chain."""

    intact: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def audit_verify(*, batch_size: int = 5000) -> AuditVerdict:
    """Walk the chain in order and report the first record whose links or hash do not hold."""
    previous = GENESIS_HASH
    checked = 0
    for record in AuditRecord.objects.order_by("id").iterator(chunk_size=batch_size):
        if record.previous_hash != previous:
            return AuditVerdict(
                False, checked, record.id, "does not point to the record before it (removed or reordered)"
            )
        if record_hash(record) != record.record_hash:
            return AuditVerdict(False, checked, record.id, "content does not match its hash (modified)")
        previous = record.record_hash
        checked += 1
    return AuditVerdict(True, checked)
