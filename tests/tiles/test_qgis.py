"""QGIS itself (Debian's python3-qgis, headless, with /usr/bin/python3) loads the WFS and OGC API layers of a
live server: feature counts equal the database's, a filter expression returns the right subset, the planner's
API token in the password box opens the internal layer, and anonymous QGIS never gets it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from geo.models import AuthorisedWork, Parcel
from tests.tiles.conftest import PERSONAL_DATA

SYSTEM_PYTHON = Path("/usr/bin/python3")


def _qgis_importable() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    probe = subprocess.run([str(SYSTEM_PYTHON), "-c", "import qgis.core"], capture_output=True, timeout=60)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not _qgis_importable(),
    reason="QGIS is not importable by /usr/bin/python3 (apt-get install python3-qgis qgis-providers)",
)

# Run by /usr/bin/python3: loads each layer, prints one JSON line of what it saw.
SCRIPT = r"""
import json, os, sys
from qgis.core import QgsApplication, QgsExpression, QgsFeatureRequest, QgsVectorLayer

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
base, credentials = sys.argv[1], json.loads(sys.argv[2])
auth = "".join(f" {key}='{value}'" for key, value in credentials.items())
sources = {
    "wfs_works": ("WFS", f"url='{base}/wfs' typename='taamir:authorised_works' version='2.0.0'{auth}"),
    "wfs_parcels": ("WFS", f"url='{base}/wfs' typename='taamir:parcels' version='2.0.0'{auth}"),
    "wfs_dossiers": ("WFS", f"url='{base}/wfs' typename='taamir:dossiers' version='2.0.0'{auth}"),
    "oapif_works": ("OAPIF", f"url='{base}/ogcapi' typename='authorised_works'{auth}"),
    "oapif_dossiers": ("OAPIF", f"url='{base}/ogcapi' typename='dossiers'{auth}"),
}
seen = {}
for name, (provider, uri) in sources.items():
    layer = QgsVectorLayer(uri, name, provider)
    if not layer.isValid():
        seen[name] = {"valid": False}
        continue
    features = list(layer.getFeatures())
    first = features[0].geometry().vertexAt(0) if features else None
    request = QgsFeatureRequest(QgsExpression('"floors" >= 2 AND "status" = \'authorised\''))
    subset = [f["reference"] for f in layer.getFeatures(request)] if "works" in name else []
    seen[name] = {
        "valid": True,
        "count": len(features),
        "fields": [field.name() for field in layer.fields()],
        "references": sorted(str(f["reference"]) for f in features),
        "first_xy": [first.x(), first.y()] if first else None,
        "crs": layer.crs().authid(),
        "subset": sorted(subset),
        "values": [str(v) for f in features for v in f.attributes()],
    }
print(json.dumps(seen), flush=True)
# exitQgis() may crash while the network threads wind down: the answer is out, leave at once.
os._exit(0)
"""


def run_qgis(base_url: str, credentials: dict | None = None) -> dict:
    runtime = tempfile.mkdtemp(prefix="taamir-qgis-")  # private (0700), as Qt wants its runtime folder
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": runtime}
    completed = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", SCRIPT, base_url, json.dumps(credentials or {})],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    shutil.rmtree(runtime, ignore_errors=True)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_qgis_anonymous_loads_public_wfs_and_oapif_layers(live_server, geo_portal_world):
    seen = run_qgis(live_server.url)
    works = sorted(AuthorisedWork.objects.values_list("reference", flat=True))
    for name in ("wfs_works", "oapif_works"):
        layer = seen[name]
        assert layer["valid"], name
        assert layer["count"] == AuthorisedWork.objects.count() and layer["references"] == works, name
        assert layer["crs"] == "EPSG:4326"
        lon, lat = layer["first_xy"]
        assert -7.7 < lon < -7.5 and 33.5 < lat < 33.7, name
        assert layer["subset"] == ["TEST-01-2025-00001", "TEST-01-2025-00002"], name
        assert "reference" in layer["fields"] and "national_id" not in layer["fields"]
    assert seen["wfs_parcels"]["count"] == Parcel.objects.count()
    assert seen["wfs_dossiers"] == {"valid": False}
    assert seen["oapif_dossiers"] == {"valid": False}


def test_qgis_planner_with_token_loads_the_internal_layer(live_server, geo_portal_world):
    seen = run_qgis(live_server.url, {"username": "geo.planner", "password": geo_portal_world["token"]})
    for name in ("wfs_dossiers", "oapif_dossiers"):
        layer = seen[name]
        assert layer["valid"], name
        assert layer["references"] == ["TEST-01-2025-00042"], name
        text = json.dumps(layer, ensure_ascii=False)
        assert not [secret for secret in PERSONAL_DATA if secret in text], name
