#!/usr/bin/env bash
# Installs the Debian packages Taamir needs when they are missing: as root with apt-get, otherwise
# it prints the exact apt-get line and stops. Idempotent: when everything is there it does nothing.
set -euo pipefail

packages=(
  postgresql-15 postgresql-15-postgis-3   # the database, unless DATABASE_URL points elsewhere
  gdal-bin libgeos-c1v5 libproj25         # GeoDjango's GDAL/GEOS/PROJ, ogr2ogr for benchmarks
  gettext                                 # msgfmt, to compile the French/Arabic/English catalogues
  chromium chromium-driver                # headless browser tests
  mapserver-bin                           # a peer for the tile benchmarks
  python3-qgis qgis-providers             # QGIS headless: the WFS and OGC API client tests
  fonts-dejavu-core fonts-noto-core       # Latin and Arabic glyphs in generated documents and screenshots
  libpango-1.0-0 libpangoft2-1.0-0        # WeasyPrint's text layout (receipts and decisions, Arabic included)
  poppler-utils                           # pdftotext/pdftoppm, to check generated PDFs in tests
  libnss3-tools                           # certutil: an NSS database trusting the dev root for pdfsig
)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages. Run as root:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
