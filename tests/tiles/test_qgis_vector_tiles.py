"""QGIS (Debian's python3-qgis, headless, /usr/bin/python3) draws the vector tiles of a live server.

A QGIS vector-tile layer (``type=xyz``) on ``/tiles/authorised_works/{z}/{x}/{y}.pbf`` is rendered around
a work with a magenta fill: the work's pixels are there; after the work is deleted, a new QGIS session
draws nothing there (the tiles were invalidated at once); anonymous QGIS draws nothing from the internal
``dossiers`` layer (its tiles are 404). Same harness as ``test_qgis.py`` (WFS and OGC API).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from geo.models import AuthorisedWork
from tests.tiles.test_qgis import SYSTEM_PYTHON, _qgis_importable

pytestmark = pytest.mark.skipif(
    not _qgis_importable(),
    reason="QGIS is not importable by /usr/bin/python3 (apt-get install python3-qgis qgis-providers)",
)

# Run by /usr/bin/python3: renders one vector-tile layer over an extent (EPSG:3857) and counts magenta pixels.
SCRIPT = r"""
import json, os, sys
from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsFillSymbol, QgsMapRendererParallelJob,
    QgsMapSettings, QgsRectangle, QgsVectorTileBasicRenderer, QgsVectorTileBasicRendererStyle, QgsVectorTileLayer,
    QgsWkbTypes)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
base, name, extent = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
layer = QgsVectorTileLayer(f"type=xyz&url={base}/tiles/{name}/%7Bz%7D/%7Bx%7D/%7By%7D.pbf&zmin=5&zmax=20", name)
style = QgsVectorTileBasicRendererStyle("all", name, QgsWkbTypes.PolygonGeometry)
style.setSymbol(QgsFillSymbol.createSimple({"color": "255,0,255,255", "outline_style": "no"}))
renderer = QgsVectorTileBasicRenderer()
renderer.setStyles([style])
layer.setRenderer(renderer)
settings = QgsMapSettings()
settings.setLayers([layer])
settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
settings.setExtent(QgsRectangle(*extent))
settings.setOutputSize(QSize(300, 300))
settings.setBackgroundColor(QColor(255, 255, 255))
job = QgsMapRendererParallelJob(settings)
job.start()
job.waitForFinished()
image = job.renderedImage()
magenta = sum(1 for x in range(300) for y in range(300) if image.pixelColor(x, y).name() == "#ff00ff")
print(json.dumps({"valid": layer.isValid(), "magenta": magenta}), flush=True)
os._exit(0)
"""


def render(base_url: str, layer: str, extent: tuple[float, ...]) -> dict:
    """One fresh QGIS session (its own home: no network cache carried over) rendering ``layer``."""
    home = tempfile.mkdtemp(prefix="taamir-qgis-")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": home, "HOME": home}
    try:
        completed = subprocess.run(
            [str(SYSTEM_PYTHON), "-c", SCRIPT, base_url, layer, json.dumps(list(extent))],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def around(geom, metres: float) -> tuple[float, ...]:
    return geom.transform(3857, clone=True).buffer(metres).extent


def test_qgis_draws_the_authorised_works_tiles_and_sees_a_deletion(live_server, geo_portal_world):
    flats = geo_portal_world["works"]["flats"]
    extent = around(flats.geom, 40)
    drawn = render(live_server.url, "authorised_works", extent)
    assert drawn["valid"]
    # The flats' site fills a good part of the 300-pixel image.
    assert drawn["magenta"] > 2000

    AuthorisedWork.objects.filter(pk=flats.pk).delete()
    assert render(live_server.url, "authorised_works", extent)["magenta"] == 0


def test_anonymous_qgis_draws_nothing_from_the_internal_layer(live_server, geo_portal_world):
    drawn = render(live_server.url, "dossiers", around(geo_portal_world["dossier"].site, 40))
    assert drawn["magenta"] == 0
