"""GeoJSON as GIS tools really write it: a legacy ``crs`` member, a lone Feature, heights.

Each test pins what such a file becomes: read right, or refused with what to do, never a point
silently read in the wrong coordinate system.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caselink.io import open_source
from caselink.store import CaseStore


def feature(case_id: str, *coordinates: float) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(coordinates)},
            "properties": {"case_id": case_id, "found_at": "2014-06-19"}}


def collection(*features: dict, crs: object = None) -> dict:
    document: dict = {"type": "FeatureCollection", "features": list(features)}
    if crs is not None:
        document["crs"] = crs
    return document


def named_crs(name: str) -> dict:
    return {"type": "name", "properties": {"name": name}}


def n_cases(url: str) -> int:
    with CaseStore.open(url) as store:
        return store.stats()["n_cases"]


@pytest.mark.parametrize("name", ["urn:ogc:def:crs:EPSG::27700", "EPSG:4277", "urn:ogc:def:crs:EPSG::3857"])
def test_a_crs_other_than_wgs84_is_refused_for_the_whole_file(cli, tmp_path: Path, sqlite_url, name):
    # QGIS and older GDAL write the legacy crs member.  British National Grid metres were refused point by
    # point without naming the crs; OSGB36 degrees (EPSG:4277, ~100 m off WGS84) were read as WGS84.
    data = tmp_path / "osgb.geojson"
    data.write_text(json.dumps(collection(feature("O1", 0.0825, 51.539), crs=named_crs(name))))
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"{data}: " in result.stderr and name in result.stderr and "EPSG:4326" in result.stderr, result.stderr
    assert n_cases(sqlite_url) == 0


@pytest.mark.parametrize("name", ["urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "EPSG:4326",
                                  "urn:ogc:def:crs:EPSG::4326", "http://www.opengis.net/def/crs/OGC/1.3/CRS84"])
def test_a_crs_naming_wgs84_longitude_first_is_read(tmp_path: Path, sqlite_url, name):
    data = tmp_path / "wgs84.geojson"
    data.write_text(json.dumps(collection(feature("W1", 0.0825, 51.539, 12.5), crs=named_crs(name))))
    with CaseStore.open(sqlite_url) as store:
        store.ingest([open_source(data)])
        case = store.get_case("W1")
    assert (case.lat, case.lon) == (51.539, 0.0825)  # the height is not a coordinate of the case


def test_the_draft_epsg_crs_form_is_read_by_its_code(cli, tmp_path: Path, sqlite_url):
    # Older GeoServer and OpenLayers wrote {"type": "EPSG", "properties": {"code": 4326}}.
    data = tmp_path / "draft.geojson"
    data.write_text(json.dumps(collection(feature("D1", 0.0825, 51.539),
                                          crs={"type": "EPSG", "properties": {"code": 4326}})))
    assert cli("ingest", str(data), "--db", sqlite_url).exit_code == 0
    data.write_text(json.dumps(collection(feature("D2", 545000, 184000),
                                          crs={"type": "EPSG", "properties": {"code": 27700}})))
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and "EPSG:27700" in result.stderr and "British National Grid" in result.stderr


def test_a_crs_that_cannot_be_read_is_refused(cli, tmp_path: Path, sqlite_url):
    data = tmp_path / "linked.geojson"
    data.write_text(json.dumps(collection(feature("L1", 0.0825, 51.539),
                                          crs={"type": "link", "properties": {"href": "http://x/crs.prj"}})))
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and f"{data}: " in result.stderr and "crs" in result.stderr, result.stderr


def test_a_lone_feature_is_refused_with_what_to_do(cli, tmp_path: Path, sqlite_url):
    data = tmp_path / "one.geojson"
    data.write_text(json.dumps(feature("F1", 0.0825, 51.539)))
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and "single Feature" in result.stderr and "FeatureCollection" in result.stderr


def test_a_json_scalar_named_geojson_is_refused_not_a_traceback(cli, tmp_path: Path, sqlite_url):
    data = tmp_path / "scalar.geojson"
    data.write_text('"cases"\n')
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and "is not a GeoJSON FeatureCollection" in result.stderr
    assert "Traceback" not in result.stderr


def test_esri_json_from_arcgis_is_told_to_be_exported_as_geojson(cli, tmp_path: Path, sqlite_url):
    # ArcGIS's own JSON (attributes, x/y, spatialReference) was told to become JSON Lines "without geometry".
    data = tmp_path / "arcgis.json"
    data.write_text(json.dumps({"geometryType": "esriGeometryPoint", "spatialReference": {"wkid": 27700},
                                "features": [{"attributes": {"case_id": "E1", "found_at": "2014-06-19"},
                                              "geometry": {"x": 545000, "y": 184000}}]}))
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and "Esri JSON" in result.stderr and "GeoJSON" in result.stderr, result.stderr
    assert "without geometry" not in result.stderr
