"""Live events: a change of a published feature reaches /geo/events as a server-sent event.

The stream is read over a real HTTP connection from the live server (threaded WSGI, the blocking
generator); the ASGI stream (the async generator uvicorn runs) is driven directly on an event loop.
Internal layers' changes reach only users who may read them.
"""

from __future__ import annotations

import asyncio
import json
import queue
import socket
import threading
import time
import urllib.parse

import psycopg
import pytest
from django.db import connection

from geo.services import authorised_work_set_status
from tests.tiles.conftest import PLANNER_PASSWORD
from tiles import events

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_S = 20


class EventReader:
    """Reads an SSE stream over a plain socket in a thread; ``events`` gets each ``change`` event's data."""

    def __init__(self, url: str, cookie: str = "") -> None:
        parts = urllib.parse.urlsplit(url)
        self.others = listening_sessions()
        self.socket = socket.create_connection((parts.hostname, parts.port), timeout=WAIT_S)
        request = f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n"
        if cookie:
            request += f"Cookie: {cookie}\r\n"
        self.socket.sendall((request + "\r\n").encode())
        self.stream = self.socket.makefile("rb")
        self.status = int(self.stream.readline().split()[1])
        self.headers: dict[str, str] = {}
        while (line := self.stream.readline().decode().strip()) != "":
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.events: queue.Queue = queue.Queue()
        self.comments: list[str] = []
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        assert self.opened.wait(WAIT_S), "the stream did not open"

    def _read(self) -> None:
        name = ""
        try:
            for raw in self.stream:
                line = raw.decode().rstrip("\r\n")
                if line.startswith(":"):
                    self.comments.append(line)
                    self.opened.set()
                elif line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: ") and name == "change":
                    self.events.put(json.loads(line.removeprefix("data: ")))
        except (OSError, ValueError):
            pass

    def next_change(self) -> dict:
        return self.events.get(timeout=WAIT_S)

    def close(self) -> None:
        """Hang up, then wait until the server noticed and closed its listening connection."""
        self.socket.shutdown(socket.SHUT_RDWR)
        self.stream.close()
        self.socket.close()
        deadline = time.monotonic() + WAIT_S
        while listening_sessions() > self.others and time.monotonic() < deadline:
            time.sleep(0.1)
        assert listening_sessions() <= self.others, "the server kept listening after the client left"


def listening_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %%'"
        )
        return cursor.fetchone()[0]


@pytest.fixture
def short_streams(settings):
    settings.TAAMIR_EVENTS_HEARTBEAT_SECONDS = 0.5
    settings.TAAMIR_EVENTS_MAX_SECONDS = 30


def test_a_permit_change_reaches_the_open_stream(live_server, geo_portal_world, short_streams):
    flats = geo_portal_world["works"]["flats"]
    reader = EventReader(f"{live_server.url}/geo/events")
    try:
        assert reader.status == 200
        assert reader.headers["content-type"].startswith("text/event-stream")
        assert reader.headers["cache-control"] == "no-cache, no-transform"

        authorised_work_set_status(reference=flats.reference, status="withdrawn")

        change = reader.next_change()
        assert change["layer"] == "authorised_works"
        assert change["id"] == flats.pk
        assert change["action"] == "update"
        west, south, east, north = change["bbox"]
        lon, lat = flats.geom.centroid.coords
        assert west < lon < east and south < lat < north
        # Heartbeats keep an idle stream open.
        reader.thread.join(1.2)
        assert ": keep-alive" in reader.comments
    finally:
        reader.close()


def test_internal_layer_changes_reach_staff_only(client, live_server, geo_portal_world, short_streams):
    dossier = geo_portal_world["dossier"]
    flats = geo_portal_world["works"]["flats"]
    client.login(username="geo.planner", password=PLANNER_PASSWORD)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    anonymous = EventReader(f"{live_server.url}/geo/events")
    planner = EventReader(f"{live_server.url}/geo/events", cookie=cookie)
    try:
        type(dossier).objects.filter(pk=dossier.pk).update(status="under_review")
        authorised_work_set_status(reference=flats.reference, status="lapsed")

        assert planner.next_change()["layer"] == "dossiers"
        assert planner.next_change()["layer"] == "authorised_works"
        # The anonymous stream skips the dossier: its first event is the authorised work.
        first = anonymous.next_change()
        assert (first["layer"], first["id"]) == ("authorised_works", flats.pk)
    finally:
        planner.close()
        anonymous.close()


@pytest.mark.django_db(transaction=False)
def test_the_asgi_stream_relays_notices(short_streams):
    """The async generator (uvicorn) listens on its own connection; a NOTIFY shows up as an event."""
    params = events._conninfo()
    payloads = [
        json.dumps({"layer": "dossiers", "id": 7, "action": "update", "bbox": [0, 0, 1, 1]}),
        json.dumps({"layer": "parcels", "id": 3, "action": "delete", "bbox": [0, 0, 1, 1]}),
    ]

    async def scenario() -> list[str]:
        stream = events.astream(internal=False)
        received = [await anext(stream)]
        with psycopg.connect(**params, autocommit=True) as notifier:
            for payload in payloads:
                notifier.execute("SELECT pg_notify('geo_changes', %s)", [payload])
        received.append(await asyncio.wait_for(anext(stream), WAIT_S))
        received.append(await asyncio.wait_for(anext(stream), WAIT_S))
        await stream.aclose()
        return received

    opening, change, heartbeat = asyncio.run(scenario())
    assert opening.startswith("retry: ")
    assert change == 'event: change\ndata: {"layer":"parcels","id":3,"action":"delete","bbox":[0,0,1,1]}\n\n'
    assert heartbeat == ": keep-alive\n\n"
