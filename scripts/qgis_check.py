#!/usr/bin/python3
"""Open riskmap's OGC API in QGIS as an analyst would, and check what QGIS makes of it.

Run with Debian's /usr/bin/python3 (python3-qgis belongs to it) and QT_QPA_PLATFORM=offscreen:

    scripts/qgis_check.py --base http://127.0.0.1:8080 [--token NAME=rmk_…]… [--png out.png]

For the public (no token) and for the user of each --token, every collection of /ogc is
added as an OAPIF layer. Each must be valid, have the geometry type of its collection, and
hold as many features as the API's numberMatched says, read page by page through QGIS. A
token reaches QGIS as an analyst gives it: an authentication configuration of method Basic
(user name NAME, password the token; QGIS 3.22 has no method that sends a bearer token) in
a throw-away authentication database, named by authcfg= in the layer's URI. The
unit layers are styled by grade with the four colours of /api/v1/grading and drawn; every
grade present in a layer must show in its picture. The map of all layers is saved to --png
(the public's; a token's next to it, named after the token). A Basic configuration with a
token the server does not know must give a layer QGIS refuses, not the public view. Exit
status 0 when everything holds; otherwise the failures, one a line.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QGIS 3.22's authentication manager prints the master password's salt and hash with qDebug.
os.environ.setdefault("QT_LOGGING_RULES", "default.debug=false")
# A throw-away authentication database: QGIS reads this before QgsApplication starts, and
# the analyst's own qgis-auth.db (and its master password) is never touched.
AUTH_DB_DIR = tempfile.mkdtemp(prefix="qgis-check-auth-")
os.environ["QGIS_AUTH_DB_DIR_PATH"] = AUTH_DB_DIR

from qgis.core import (  # noqa: E402  (after the platform is set)
    QgsApplication,
    QgsAuthMethodConfig,
    QgsCategorizedSymbolRenderer,
    QgsDataSourceUri,
    QgsFillSymbol,
    QgsLineSymbol,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsMarkerSymbol,
    QgsRectangle,
    QgsRendererCategory,
    QgsSingleSymbolRenderer,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor, QImage  # noqa: E402

# Every collection with its geometry type: units mixes them (QGIS types it by its first
# features, so it is counted, not drawn), the others hold one kind each.
COLLECTIONS = {
    "units": None,
    "units_point": QgsWkbTypes.PointGeometry,
    "units_line": QgsWkbTypes.LineGeometry,
    "units_polygon": QgsWkbTypes.PolygonGeometry,
    "regions": QgsWkbTypes.PolygonGeometry,
    # Issue 16: shelters (points and polygons: counted, not typed) for anyone, protective
    # targets for users only.
    "shelters": None,
    "protective_targets": None,
}
INTERNAL = {"protective_targets"}
UNIT_LAYERS = ["units_polygon", "units_line", "units_point"]  # drawing order, bottom first

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, flush=True)


def get_json(url, token=None):
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def basic_auth(user, token):
    """Store a Basic authentication configuration, as Settings › Authentication does: user
    name the login name, password the API token. Returns its id, for authcfg=."""
    cfg = QgsAuthMethodConfig()
    cfg.setName("riskmap " + user)
    cfg.setMethod("Basic")
    cfg.setUri("")
    cfg.setConfig("username", user)
    cfg.setConfig("password", token)
    res = QgsApplication.authManager().storeAuthenticationConfig(cfg)
    ok, cfg = res if isinstance(res, tuple) else (res, cfg)  # 3.22's binding returns (ok, cfg)
    if not ok or not cfg.id():
        raise SystemExit(f"cannot store the Basic authentication configuration for {user}")
    return cfg.id()


def open_layer(base, cid, authcfg=None):
    uri = QgsDataSourceUri()
    uri.setParam("url", base + "/ogc")
    uri.setParam("typename", cid)
    if authcfg:
        uri.setAuthConfigId(authcfg)
    return QgsVectorLayer(uri.uri(False), cid, "OAPIF")


def grade_renderer(layer, grades):
    """A categorized renderer on grade, in the grade colours, with no anti-aliased edges of
    another colour: fill and outline the same."""
    cats = []
    geom = layer.geometryType()
    for g in grades:
        colour = g["fill"]
        if geom == QgsWkbTypes.PointGeometry:
            sym = QgsMarkerSymbol.createSimple({"name": "circle", "color": colour, "outline_color": colour, "size": "2.4"})
        elif geom == QgsWkbTypes.LineGeometry:
            sym = QgsLineSymbol.createSimple({"color": colour, "width": "0.8"})
        else:
            sym = QgsFillSymbol.createSimple({"color": colour, "outline_color": colour, "outline_width": "0.4"})
        cats.append(QgsRendererCategory(g["code"], sym, g["label"]))
    return QgsCategorizedSymbolRenderer("grade", cats)


def render(layers, extent, size=900):
    ms = QgsMapSettings()
    ms.setLayers(layers)  # first on top
    ms.setDestinationCrs(layers[0].crs())
    ms.setExtent(extent)
    ms.setOutputSize(QSize(size, size))
    ms.setBackgroundColor(QColor("white"))
    ms.setFlag(QgsMapSettings.Antialiasing, False)
    job = QgsMapRendererParallelJob(ms)
    job.start()
    job.waitForFinished()
    return job.renderedImage().convertToFormat(QImage.Format_RGB32)


def colours_in(img):
    ptr = img.constBits()
    ptr.setsize(img.sizeInBytes())
    data = bytes(ptr)
    # Format_RGB32 is 0xffRRGGBB in native (little-endian) order: B, G, R, 0xff.
    return {(data[i + 2], data[i + 1], data[i]) for i in range(0, len(data), 4)}


def rgb(hexcolour):
    c = QColor(hexcolour)
    return (c.red(), c.green(), c.blue())


def check(base, who, token, grades, png):
    authcfg = basic_auth(who, token) if token else None
    layers = {}
    total = 0
    for cid, want_geom in COLLECTIONS.items():
        if cid in INTERNAL and not token:
            continue
        t0 = time.time()
        try:
            api = get_json(base + "/ogc/collections/" + cid + "/items?limit=1", token)["numberMatched"]
        except urllib.error.HTTPError as e:
            fail(f"{who}: GET /ogc/collections/{cid}/items: {e}")
            continue
        layer = open_layer(base, cid, authcfg)
        if not layer.isValid():
            # (layer.error() of a layer whose provider refused crashes QGIS 3.22; the
            # provider's reason is in QGIS's message log, tag OAPIF.)
            fail(f"{who}: QGIS's OAPIF provider refuses collection {cid}: the layer is not valid")
            continue
        # QGIS 3.22 types a layer by its first features: an empty one has no type.
        if api > 0 and want_geom is not None and layer.geometryType() != want_geom:
            fail(f"{who}: QGIS types {cid} as {QgsWkbTypes.displayString(layer.wkbType())}")
        n, wrong, present = 0, 0, set()
        idx = layer.fields().indexFromName("grade")
        for f in layer.getFeatures():
            n += 1
            if f.geometry().isNull() or (want_geom is not None and f.geometry().type() != want_geom):
                wrong += 1
            if idx >= 0:
                present.add(f.attributes()[idx])
        if n != api or layer.featureCount() != api:
            fail(f"{who}: QGIS reads {n} features of {cid} (featureCount {layer.featureCount()}), the API has {api}")
        if wrong:
            fail(f"{who}: {wrong} features of {cid} have no geometry or one of another type")
        print(f"{who}: {cid}: {n} features ({QgsWkbTypes.displayString(layer.wkbType())}), "
              f"grades {sorted(g for g in present if g)}, {time.time() - t0:.1f}s", flush=True)
        layers[cid] = (layer, present)
        if cid.startswith("units_"):
            total += n
    units = layers["units"][0].featureCount() if "units" in layers else -1
    if total != units:
        fail(f"{who}: the per-geometry collections hold {total} units, the units collection {units}")

    extent = QgsRectangle()
    for cid in UNIT_LAYERS:
        if cid not in layers:
            continue
        layer, present = layers[cid]
        extent.combineExtentWith(layer.extent())
    extent.scale(1.05)
    for cid in UNIT_LAYERS:
        if cid not in layers:
            continue
        layer, present = layers[cid]
        layer.setRenderer(grade_renderer(layer, grades))
        seen = colours_in(render([layer], extent))
        for g in grades:
            if g["code"] in present and rgb(g["fill"]) not in seen:
                fail(f"{who}: {cid} has {g['code']} units, but QGIS draws no {g['fill']} pixel")
    if png:
        regions = layers.get("regions")
        drawn = [layers[c][0] for c in reversed(UNIT_LAYERS) if c in layers]
        if regions:
            regions[0].setRenderer(QgsSingleSymbolRenderer(
                QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": "#9e9e9e", "outline_width": "0.2"})))
            drawn.append(regions[0])
        img = render(drawn, extent, 1200)
        os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
        if not img.save(png):
            fail(f"cannot write {png}")
        else:
            print(f"{who}: wrote {png}", flush=True)


def check_refused(base):
    """A token the server does not know, sent the same way, gets 401 on every request: QGIS
    must show nothing, not the public view. This proves the configuration's header carries
    the token (the counts above prove it carries the right one)."""
    authcfg = basic_auth("nobody", "rmk_" + "0" * 43)
    layer = open_layer(base, "units", authcfg)
    if layer.isValid():
        # QGIS 3.22 refuses the layer: its first request (the landing page) gets 401.
        n = sum(1 for _ in layer.getFeatures())
        fail(f"QGIS opens units with an unknown token as the Basic password ({n} features)")
    else:
        print("unknown token: QGIS's OAPIF provider refuses the layer", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="the server, e.g. http://127.0.0.1:8080")
    ap.add_argument("--token", action="append", default=[], metavar="NAME=TOKEN",
                    help="an API token: also check what its user sees (repeatable)")
    ap.add_argument("--png", help="save the public map here (and each token's next to it)")
    args = ap.parse_args()
    base = args.base.rstrip("/")

    # A profile of its own: QGIS's network cache must not answer from an earlier run.
    profile = tempfile.mkdtemp(prefix="qgis-check-")
    app = QgsApplication([], False, profile)
    app.initQgis()
    try:
        auth = QgsApplication.authManager()
        # Headless there is no dialog to ask for the master password: set it (a new database
        # stores the first one it is given) before any configuration is stored or read.
        if auth.isDisabled() or not auth.setMasterPassword("qgis-check-master", True):
            raise SystemExit("QGIS's authentication manager is not usable: " + auth.disabledMessage())
        grades = get_json(base + "/api/v1/grading")["grades"]
        check(base, "public", None, grades, args.png)
        for nt in args.token:
            name, _, token = nt.partition("=")
            png = None
            if args.png:
                root, ext = os.path.splitext(args.png)
                png = root + "-" + name + ext
            check(base, name, token, grades, png)
        check_refused(base)
    finally:
        app.exitQgis()
        shutil.rmtree(AUTH_DB_DIR, ignore_errors=True)  # it holds the tokens, encrypted
        shutil.rmtree(profile, ignore_errors=True)
    if failures:
        sys.exit(1)
    print("QGIS reads every collection of /ogc", flush=True)


if __name__ == "__main__":
    main()
