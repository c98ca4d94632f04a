#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for the whole test suite: PostGIS for the
# PostgreSQL 15 server, GDAL (ogrinfo, validate_gpkg.py), QGIS's Python library (python3-qgis;
# its OAPIF provider, libprovider_wfs.so, is in qgis-providers) and the browser with CJK fonts;
# for the assessment report: its TrueType fonts (fonts-droid-fallback for Chinese,
# fonts-dejavu-core for the Latin letters and digits Droid Sans Fallback lacks) and what the tests
# read the documents with (poppler-utils: pdftotext, pdftoppm; python3-docx; LibreOffice's
# soffice --headless from libreoffice-writer-nogui); python3-openpyxl, the independent reader
# of the Excel 风险清单 in the workbook tests; mosquitto, the MQTT broker of the readings of
# monitoring points (serve --mqtt, pkg/mqttfeed's tests; scripts/start-mosquitto.sh starts it).
# Run as root. Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  postgresql-15-postgis-3 gdal-bin python3-gdal python3-qgis qgis-providers chromium fonts-noto-cjk wrk \
  fonts-droid-fallback fonts-dejavu-core poppler-utils python3-docx libreoffice-writer-nogui python3-openpyxl \
  mosquitto mosquitto-clients
