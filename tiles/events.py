"""Live events of the geo-portal: PostgreSQL ``LISTEN geo_changes`` relayed as server-sent events.

The change triggers (``tiles.migrations.0002_change_triggers``) send one notice per changed feature when
the changing transaction commits: ``{"layer", "id", "action", "bbox"}`` (or ``"id": null`` and a
``"count"`` for a large statement). Every open ``/geo/events`` stream holds its own connection listening
on that channel and writes each notice as an SSE ``change`` event; internal layers' notices go only to
users who may read them. A comment line is written when nothing happened for a while (proxies keep the
stream open, and a closed client is noticed), and a stream ends after ``TAAMIR_EVENTS_MAX_SECONDS``
(the browser's EventSource reconnects by itself).

Under WSGI (the test live server, ``runserver``) the stream is a generator blocking on the listening
connection; under ASGI (uvicorn) it is an async generator on ``psycopg.AsyncConnection``, cancelled by
Django when the client goes away.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator

import psycopg
from django.conf import settings
from django.db import connections

from tiles.layers import LAYERS

CHANNEL = "geo_changes"
RETRY_MS = 2000
INTERNAL_LAYERS = frozenset(layer.name for layer in LAYERS if layer.internal)


def _conninfo() -> dict:
    """Connection parameters of the default database (the test database under tests)."""
    settings_dict = connections["default"].settings_dict
    params = {
        "dbname": settings_dict["NAME"],
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
    }
    return {key: value for key, value in params.items() if value is not None}


def format_event(payload: str, *, internal: bool) -> str | None:
    """The SSE text of one notice, or None when the reader may not see its layer (or it is garbled)."""
    try:
        change = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(change, dict) or (change.get("layer") in INTERNAL_LAYERS and not internal):
        return None
    return f"event: change\ndata: {json.dumps(change, separators=(',', ':'))}\n\n"


def _opening() -> str:
    return f"retry: {RETRY_MS}\n: listening on {CHANNEL}\n\n"


def _heartbeat() -> str:
    return ": keep-alive\n\n"


def stream(*, internal: bool) -> Iterator[str]:
    """The event stream for a WSGI server: blocks on the listening connection between notices."""
    heartbeat = float(settings.TAAMIR_EVENTS_HEARTBEAT_SECONDS)
    deadline = time.monotonic() + float(settings.TAAMIR_EVENTS_MAX_SECONDS)
    # The view's queries are done: this request thread's Django connection is not held for the stream.
    connections["default"].close()
    with psycopg.connect(**_conninfo(), autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        yield _opening()
        while time.monotonic() < deadline:
            wait = max(0.0, min(heartbeat, deadline - time.monotonic()))
            received = False
            for notice in conn.notifies(timeout=wait):
                received = True
                text = format_event(notice.payload, internal=internal)
                if text:
                    yield text
                if time.monotonic() >= deadline:
                    break
            if not received:
                yield _heartbeat()


async def astream(*, internal: bool) -> AsyncIterator[str]:
    """The event stream for an ASGI server (cancelled by Django when the client disconnects)."""
    heartbeat = float(settings.TAAMIR_EVENTS_HEARTBEAT_SECONDS)
    deadline = time.monotonic() + float(settings.TAAMIR_EVENTS_MAX_SECONDS)
    conn = await psycopg.AsyncConnection.connect(**_conninfo(), autocommit=True)
    try:
        await conn.execute(f"LISTEN {CHANNEL}")
        yield _opening()
        while time.monotonic() < deadline:
            wait = max(0.0, min(heartbeat, deadline - time.monotonic()))
            received = False
            async for notice in conn.notifies(timeout=wait):
                received = True
                text = format_event(notice.payload, internal=internal)
                if text:
                    yield text
                if time.monotonic() >= deadline:
                    break
            if not received:
                yield _heartbeat()
    finally:
        await conn.close()
