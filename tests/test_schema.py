"""The case record's normalisation rules (DESIGN §2)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caselink.schema import Case, normalise_record

BASE = {"case_id": "C1", "found_at": "2014-06-19T04:30:00", "lat": "51.534", "lon": "0.081"}


def norm(**fields):
    return normalise_record({**BASE, **fields})


def test_minimal_record_defaults_to_death():
    result = norm()
    assert result.errors == []
    assert result.record["incident_type"] == "death"
    assert result.record["substances"] == []


@pytest.mark.parametrize("raw", ["G", "gina", "Liquid Ecstasy", " GHB ", "gamma-hydroxybutyrate"])
def test_ghb_synonyms_fold(raw):
    assert norm(substances=raw).record["substances"] == ["ghb"]


def test_gbl_stays_distinct_and_lists_split_on_semicolons():
    assert norm(substances="GBL; alcohol;;G").record["substances"] == ["gbl", "alcohol", "ghb"]


def test_json_arrays_are_lists_too():
    assert normalise_record({**BASE, "mo": ["Propped Sitting", "phone_missing"]}).record["mo"] == [
        "propped_sitting", "phone_missing"]


def test_naive_time_is_local_to_agency_and_stored_utc_with_offset():
    record = norm().record
    assert record["found_at"] == datetime(2014, 6, 19, 3, 30)  # BST is UTC+1
    assert record["found_at_offset_min"] == 60
    assert record["found_at_precision"] == "datetime"


def test_explicit_offset_and_other_zone():
    record = normalise_record({**BASE, "found_at": "2014-06-19T04:30:00-05:00"}).record
    assert record["found_at"] == datetime(2014, 6, 19, 9, 30)
    assert record["found_at_offset_min"] == -300
    record = normalise_record({**BASE, "found_at": "2014-01-10T12:00"}, ZoneInfo("America/New_York")).record
    assert record["found_at"] == datetime(2014, 1, 10, 17, 0)


def test_date_only_keeps_its_precision():
    record = norm(found_at="2014-06-19").record
    assert record["found_at_precision"] == "date"


@pytest.mark.parametrize("value", ["20140619", "2014-W25-4", 20140619])
def test_other_iso_date_forms_keep_date_precision(value):
    # The basic (20140619) and week (2014-W25-4) forms name a day, not midnight of it: read as a
    # datetime they showed a time of 00:00 nobody wrote.
    record = norm(found_at=value).record
    assert (record["found_at_precision"], record["found_at_offset_min"]) == ("date", 60)
    assert record["found_at"] == datetime(2014, 6, 18, 23, 0)


@pytest.mark.parametrize(("value", "fragment"), [
    ("2014061904", "not an ISO 8601"),  # date.fromisoformat reads it as 2014-06-19, dropping the hour
    ("2014-W25", "names a week, not a day"),  # Python reads a week as its Monday
    ("41879", "Excel day number"),
    (1409232600000, "Unix time"),  # pandas' to_json writes datetimes as milliseconds since 1970
    ("1409232600", "Unix time"),
    ("2014", "names a year, not a day"),
])
def test_date_forms_that_would_be_guessed_are_refused(value, fragment):
    result = norm(found_at=value)
    assert result.record is None
    assert any(e.field == "found_at" and fragment in e.message for e in result.errors), result.errors


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("lat", "91", "outside -90..90"),
    ("lon", "abc", "not a number"),
    ("lat", "51,534", "after a point (51.534)"),
    ("victim_age", "121", "outside 0..120"),
    ("victim_age", "22.5", "not a whole number"),
    ("found_at", "19/06/2014", "not an ISO 8601"),
    ("found_at", "", "is empty"),
    ("case_id", "  ", "is empty"),
    ("victim_sex", "boy", "not one of F, M, X, U"),
    ("entities", "finder-1", "not kind:value"),
])
def test_errors_name_the_field(field, value, fragment):
    result = norm(**{field: value})
    assert result.record is None
    assert any(e.field == field and fragment in e.message for e in result.errors), result.errors


def test_every_error_of_a_row_is_reported():
    result = norm(lat="x", lon="999", victim_age="-1")
    assert {e.field for e in result.errors} == {"lat", "lon", "victim_age"}


def test_unknown_vocabulary_is_kept_and_reported():
    result = norm(place_type="Boat", cause="Snakebite")
    assert result.record["place_type"] == "boat"
    assert ("place_type", "boat") in result.unknown and ("cause", "snakebite") in result.unknown


def test_entities_fold_so_the_same_phone_matches():
    result = norm(entities="Phone: 07700 900-123;person: Dog  Walker")
    assert result.record["entities"] == ["phone:07700900123", "person:dog walker"]


def test_case_model_refuses_a_field_not_in_the_schema():
    # extra="forbid" promised it, but the fields were normalised first and a typo ("substance") vanished.
    with pytest.raises(ValueError, match="substance: not in the case schema"):
        Case.model_validate({**BASE, "substance": "ghb"})


@pytest.mark.parametrize("marker", ["N/K", "n.k.", "Unk", "\u2013", "\u2014"])
def test_uk_not_known_and_typographic_dashes_are_not_recorded(marker):
    # Kept, two causes "n/k" were a shared rare cause and a sex "N/K" was refused outright.
    result = normalise_record({**BASE, "cause": marker, "victim_sex": marker, "area": marker})
    assert result.errors == [], result.errors
    sex = None if marker in ("\u2013", "\u2014") else "U"  # "not known" is a sex the vocabulary names (U)
    assert (result.record["cause"], result.record["victim_sex"], result.record["area"]) == (None, sex, None)


def test_an_international_phone_drops_the_bracketed_trunk_zero():
    # "+44 (0)7700 900123" is dialled +447700900123: keeping the 0 made a number that exists nowhere.
    result = norm(entities="phone:+44 (0)7700 900123;phone:+447700900123")
    assert result.record["entities"] == ["phone:07700900123"]


def test_a_uk_number_written_internationally_matches_the_national_form():
    """One force writes +44 7700 900123, another 07700 900123: the same phone, so the same entity."""
    result = norm(entities="phone:+44 7700 900123;phone:0044 7700 900123;phone:07700-900-123;phone:+1 202 555 0100")
    assert result.record["entities"] == ["phone:07700900123", "phone:+12025550100"]


def test_identical_input_hashes_identically_and_changes_do_not():
    assert norm().record["record_hash"] == norm().record["record_hash"]
    assert norm().record["record_hash"] != norm(victim_age="22").record["record_hash"]


def test_case_model_validates_through_the_same_rules():
    case = Case.model_validate({**BASE, "substances": "G", "victim_sex": "male"})
    assert case.substances == ("ghb",) and case.victim_sex == "M"
    assert case.found_at.utcoffset().total_seconds() == 3600
    with pytest.raises(ValueError, match="lat"):
        Case.model_validate({**BASE, "lat": "north"})


@given(st.dictionaries(
    st.sampled_from(["case_id", "found_at", "lat", "lon", "victim_age", "substances", "mo", "entities",
                     "victim_sex", "cause", "died_from", "died_to", "location_precision_m"]),
    st.one_of(st.none(), st.text(max_size=12), st.integers(-1000, 1000), st.floats(allow_nan=True),
              st.lists(st.text(max_size=5), max_size=3)),
))
def test_any_input_gives_a_record_or_field_errors_never_an_exception(raw):
    result = normalise_record(raw)
    assert (result.record is None) == bool(result.errors)


@pytest.mark.parametrize(("method", "cause"), [
    ("Knife or Sharp Implement", "sharp_force"), ("Blunt Implement", "blunt_force"),
    ("Physical Assault, no weapon", "blunt_force"), ("Shooting", "gunshot"), ("Other Methods of Killing", "other"),
])
def test_the_mets_methods_of_killing_fold_into_causes(method, cause):
    assert norm(cause=method).record["cause"] == cause


def test_not_reported_is_not_a_value():
    # The Met writes ethnicity "Not Reported/Not Known"; kept, it was an ethnicity shared by 22 victims.
    assert norm(victim_ethnicity="Not Reported").record["victim_ethnicity"] is None


def test_pandas_missing_values_written_as_text_are_not_values():
    # df.astype(str) writes a nullable column's missing value as "<NA>" and a missing time as "NaT":
    # both were refused ("not a whole number", "not ISO"), so a pandas-made file could not be imported.
    result = norm(victim_age="<NA>", died_from="NaT")
    assert not result.errors and result.record["victim_age"] is None and result.record["died_from"] is None
    assert norm(entities=["person:Nat"]).record["entities"]  # only a time field reads "NaT" as missing


@pytest.mark.parametrize(("value", "fragment"), [
    ("2014", "names a year"), ("2014-06", "names a month"), ("201511105", "9 digits"),
])
def test_a_year_a_month_or_a_slipped_digit_gets_an_error_that_says_which(value, fragment):
    messages = [e.message for e in norm(found_at=value).errors]
    assert len(messages) == 1 and fragment in messages[0]
