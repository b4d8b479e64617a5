"""The editors' forms as pure rules: a form read into the API's document, problems named at the field the page
shows, one section checked alone, the answers in words, and an edit carried over onto a newer version."""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import pytest

from service.domain.model import ServiceBody
from service.stewardship.answers import answers, carried_over, change_words
from service.stewardship.editing import BY_NAME, anchor, check, document_of, type_problems
from service.stewardship.reading import compacted, geometry_from, read_section
from tests.api.helpers import SERVICE

NOW = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
NEEDS = frozenset({"mental_health_crisis", "substance_misuse"})
CIRCUMSTANCES = frozenset({"on_probation"})


def doc() -> dict[str, object]:
    return document_of(msgspec.convert(SERVICE, ServiceBody))


def test_empty_rows_are_dropped_and_the_rest_numbered_as_they_will_be_kept() -> None:
    form = {
        "schedule.weekly.rows": ["3"],
        "schedule.weekly[0].day": [""],
        "schedule.weekly[1].day": ["mon"],
        "schedule.weekly[1].opens": ["25:00"],
        "schedule.weekly[1].closes": ["17:00"],
    }
    assert compacted(form)["schedule.weekly[0].day"] == ["mon"]
    fragment, problems = read_section(BY_NAME["hours"], form, {})
    assert [p.field for p in problems] == ["schedule.weekly[0].opens"]
    assert fragment["schedule"]["weekly"] == [{"day": "mon", "opens": "25:00", "closes": "17:00"}]


@pytest.mark.parametrize(
    ("typed", "read"), [("9:30", "09:30"), ("0930", "09:30"), ("9.30", "09:30"), ("00:00", "00:00")]
)
def test_a_time_of_day_is_read_the_ways_people_type_it(typed: str, read: str) -> None:
    form = {"schedule.weekly.rows": ["1"], "schedule.weekly[0].day": ["tue"], "schedule.weekly[0].opens": [typed]}
    form["schedule.weekly[0].closes"] = ["24:00"]
    fragment, problems = read_section(BY_NAME["hours"], form, {})
    assert problems == [] and fragment["schedule"]["weekly"][0] == {"day": "tue", "opens": read, "closes": "24:00"}


def test_midnight_as_24_00_only_closes_a_session() -> None:
    form = {"schedule.weekly.rows": ["1"], "schedule.weekly[0].day": ["tue"], "schedule.weekly[0].opens": ["24:00"]}
    form["schedule.weekly[0].closes"] = ["02:00"]
    _, problems = read_section(BY_NAME["hours"], form, {})
    assert [p.field for p in problems] == ["schedule.weekly[0].opens"]


def test_an_overnight_session_passes_the_apis_rules() -> None:
    form = {"schedule.weekly.rows": ["1"], "schedule.weekly[0].day": ["fri"], "schedule.weekly[0].opens": ["22:00"]}
    form["schedule.weekly[0].closes"] = ["02:00"]
    fragment, problems = read_section(BY_NAME["hours"], form, {})
    assert problems == []
    assert check({**doc(), **fragment}, BY_NAME["hours"], NEEDS, CIRCUMSTANCES, NOW)[1] == []


def test_a_dated_exception_reads_a_uk_date_and_refuses_a_date_that_does_not_exist() -> None:
    rows = {"schedule.exceptions.rows": ["2"], "schedule.exceptions[0].date": ["25/12/2026"]}
    rows["schedule.exceptions[1].date"] = ["31/02/2026"]
    fragment, problems = read_section(BY_NAME["hours"], rows, {})
    assert fragment["schedule"]["exceptions"][0] == {"date": "2026-12-25", "hours": [], "note": ""}
    assert [p.field for p in problems] == ["schedule.exceptions[1].date"]


def test_a_feature_collection_of_polygons_becomes_one_multipolygon_and_a_point_is_refused() -> None:
    square = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
    features = [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": square}}] * 2
    collection = {"type": "FeatureCollection", "features": features}
    assert geometry_from(json.dumps(collection)) == {"type": "MultiPolygon", "coordinates": [square, square]}
    with pytest.raises(ValueError, match="Polygon or MultiPolygon"):
        geometry_from('{"type": "Point", "coordinates": [0, 0]}')


@pytest.mark.parametrize(
    ("named", "shown"),
    [
        ("catchment.geometry.coordinates[0]", "catchment.file"),
        ("eligibility.needs[2]", "eligibility.needs"),
        ("schedule.weekly[3]", "schedule.weekly[3]"),
        ("schedule.weekly[3].opens", "schedule.weekly[3].opens"),
        ("schedule.exceptions[1].hours[0]", "schedule.exceptions[1].hours"),
        ("capacity.until", "capacity.until_date"),
        ("location", "location.lat"),
        ("general_entry_for[0]", "general_entry_for"),
    ],
)
def test_a_problem_the_api_names_by_path_is_shown_at_the_field_that_holds_it(named: str, shown: str) -> None:
    assert anchor(named) == shown


def test_one_section_is_checked_alone_and_the_whole_names_what_is_still_missing() -> None:
    fragment, problems = read_section(BY_NAME["eligibility"], {"eligibility.age.min": ["17.5"]}, {})
    assert problems == []
    assert check(fragment, BY_NAME["eligibility"], NEEDS, CIRCUMSTANCES, NOW)[1] == []
    body, missing = check(fragment, None, NEEDS, CIRCUMSTANCES, NOW)
    assert body is None
    assert {p.field for p in missing} >= {"slug", "name", "organisation", "kind", "contexts", "catchment"}


def test_the_apis_type_problems_are_found_field_by_field_not_only_the_first() -> None:
    bad = {**doc(), "pathway_priority": 11, "eligibility": {"age": {"min": -1, "max": 200}}}
    assert [p.field for p in type_problems(bad, ServiceBody)] == [
        "eligibility.age.min",
        "eligibility.age.max",
        "pathway_priority",
    ]


def test_an_edit_carried_over_keeps_their_change_and_names_the_fields_both_changed() -> None:
    base = doc()
    mine = {**base, "name": "Mine", "description": "mine"}
    theirs = {**base, "description": "theirs", "organisation": "Theirs"}
    merged, both = carried_over(base, mine, theirs)
    assert (merged["name"], merged["description"], merged["organisation"]) == ("Mine", "mine", "Theirs")
    assert both == ["description"]


def test_the_answers_say_an_age_band_and_hours_in_words() -> None:
    d = doc()
    said = dict(answers(BY_NAME["eligibility"], d, {"mental_health_crisis": "Mental health crisis"}))
    assert said["Ages"] == "18 and over" and said["Needs"] == "Mental health crisis"
    assert dict(answers(BY_NAME["hours"], d, {}))["Weekly sessions"] == "Friday 22:00-02:00"


def test_a_slug_is_made_from_the_name_with_accents_dropped() -> None:
    fragment, _ = read_section(
        BY_NAME["about"], {"name": ["Hull crisis café: Women\u2019s"], "organisation": ["x"]}, {}
    )
    assert fragment["slug"] == "hull-crisis-cafe-womens"


@pytest.mark.parametrize(
    "text",
    [
        '{"type":"FeatureCollection","features":[{"geometry":{"type":"MultiPolygon","coordinates":5}}]}',
        '{"type":"FeatureCollection","features":[{"geometry":null}, 3, "x"]}',
        '{"type":"FeatureCollection","features":[]}',
        "[]",
        '"x"',
        "null",
    ],
)
def test_a_geojson_file_of_the_wrong_shape_is_refused_in_words_never_a_crash(text: str) -> None:
    with pytest.raises(ValueError):
        geometry_from(text)


def test_only_type_and_coordinates_are_kept_from_an_uploaded_geometry() -> None:
    square = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
    text = json.dumps({"type": "Polygon", "bbox": [0, 0, 1, 1], "coordinates": square})
    assert geometry_from(text) == {"type": "Polygon", "coordinates": square}


def test_every_one_of_400_dated_exceptions_is_kept_never_cut_at_a_row_limit() -> None:
    form = {"schedule.exceptions.rows": ["402"]}
    for i in range(400):
        day = dt.date(2027, 1, 1) + dt.timedelta(days=i)
        form[f"schedule.exceptions[{i}].date"] = [day.strftime("%d/%m/%Y")]
    fragment, problems = read_section(BY_NAME["hours"], form, {})
    assert problems == [] and len(fragment["schedule"]["exceptions"]) == 400


def test_an_edit_that_changes_the_catchments_kind_carries_over_whole_and_stays_valid() -> None:
    base = doc()
    mine = {**base, "catchment": {"type": "radius", "km": 5.0}, "location": {"lon": -0.5, "lat": 52.5}}
    theirs = document_of(msgspec.convert({**SERVICE, "name": "Renamed"}, ServiceBody))  # tuples, as a Service has
    merged, both = carried_over(base, mine, theirs)
    assert merged["catchment"] == {"type": "radius", "km": 5.0} and merged["name"] == "Renamed"
    assert both == []  # their lists read back as lists: no field is said to be changed by both
    assert check(merged, None, NEEDS, CIRCUMSTANCES, NOW)[1] == []


def test_a_capacity_until_left_as_shown_is_kept_to_the_second() -> None:
    kept = {"capacity": {"status": "full", "until": "2026-12-07T10:15:30+00:00", "note": ""}}
    form = {"capacity.status": ["full"], "capacity.until_date": ["07/12/2026"], "capacity.until_time": ["10:15"]}
    fragment, problems = read_section(BY_NAME["capacity"], form, kept)
    assert problems == [] and fragment["capacity"]["until"] == "2026-12-07T10:15:30+00:00"
    form["capacity.until_time"] = ["11:00"]
    assert read_section(BY_NAME["capacity"], form, kept)[0]["capacity"]["until"] == "2026-12-07T11:00:00+00:00"


def test_a_section_checked_alone_is_not_refused_by_a_placeholder_standing_in_for_another() -> None:
    fragment, _ = read_section(BY_NAME["pathway"], {"general_entry_for": ["court"]}, {})
    assert check(fragment, BY_NAME["pathway"], NEEDS, CIRCUMSTANCES, NOW)[1] == []


def test_a_change_reads_as_the_questions_it_answers_differently_in_words() -> None:
    weekly = [{"day": "fri", "opens": "22:00", "closes": "02:00"}]
    later = [{"day": "fri", "opens": "22:00", "closes": "03:00"}]
    assert change_words("schedule.weekly", weekly, later, {}) == [
        ("Weekly sessions", "Friday 22:00-02:00", "Friday 22:00-03:00")
    ]
    assert change_words("eligibility.age.min", 18, 16, {}) == [("Ages", "18 and over", "16 and over")]
    assert change_words("eligibility.needs", [], ["mental_health_crisis"], {"mental_health_crisis": "Crisis"}) == [
        ("Needs", "None", "Crisis")
    ]


def test_a_change_no_question_shows_reads_as_its_path_and_values() -> None:
    assert change_words("verification", None, {"verified_by": "x"}, {}) == [
        ("verification", "(none)", '{"verified_by":"x"}')
    ]
