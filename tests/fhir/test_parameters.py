"""How a FHIR search's query is read (service/fhir/parameters.py), without a server: Prefer: handling=strict refuses
what a search does not take, naming it; lenient handling, the default, ignores it and leaves it out of what is
applied (and so out of the Bundle's links); an empty value is ignored either way."""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidInput
from service.fhir.parameters import (
    FORMATS,
    PAGING,
    REPEATS,
    RESULT,
    SEARCH,
    SHOWN,
    Unsupported,
    handling_of,
    read,
    shown_name,
    taken,
)


def refused(kind: str, query: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """What strict handling refuses: each (field, reason)."""
    found = read(kind, query, "strict")
    assert found.ignored
    with pytest.raises(Unsupported) as caught:
        found.check()
    return [(p.field, p.reason) for p in caught.value.problems]


def test_without_a_prefer_header_handling_is_lenient_and_not_asked_for() -> None:
    assert handling_of([]) is None
    found = read("HealthcareService", [("nonsense", "1")], handling_of([]))
    assert found.handling == "lenient" and not found.asked


@pytest.mark.parametrize(
    ("headers", "handling"),
    [
        (["handling=strict"], "strict"),
        (["handling=lenient"], "lenient"),
        (["HANDLING = Strict"], "strict"),
        (['handling="strict"'], "strict"),
        (["return=minimal, handling=strict"], "strict"),
        (["return=minimal", "handling=strict; x=y"], "strict"),
        (["handling=lenient, handling=strict"], "lenient"),  # RFC 7240: the first one counts
        (["handling=sometimes"], None),
        (["respond-async"], None),
        (["strict"], None),
    ],
)
def test_the_handling_asked_for_is_the_first_handling_preference_of_the_prefer_headers(
    headers: list[str], handling: str | None
) -> None:
    assert handling_of(headers) == handling


def test_under_strict_handling_an_unknown_parameter_a_modifier_a_chain_and_a_result_parameter_are_refused_by_name() -> (
    None
):
    query = [("location.near", "52|-1|5|km"), ("name:exact", "x"), ("_sort", "name"), ("colour", "red")]
    found = dict(refused("HealthcareService", query))
    assert set(found) == {"location.near", "name:exact", "_sort", "colour"}
    assert found["location.near"] == "chained parameters are not supported"
    assert "not a parameter of this search" in found["name:exact"]  # HealthcareService has no name parameter
    assert dict(refused("Location", [("name:exact", "x")]))["name:exact"] == "modifiers are not supported"
    assert "not a parameter of this search" in found["_sort"] and "/fhir/metadata" in found["colour"]


def test_under_strict_handling_a_search_that_takes_every_parameter_given_is_not_refused() -> None:
    query = [("_id", "a"), ("active", "true"), ("_count", "5"), ("_offset", "10"), ("_format", "json")]
    found = read("HealthcareService", query, "strict").check()
    assert found.handling == "strict" and found.asked and found.ignored == ()
    assert found.applied == (("_id", "a"), ("active", "true"), ("_format", "json"))


def test_under_lenient_handling_an_unsupported_parameter_is_not_applied_and_is_named_as_ignored() -> None:
    for handling in ("lenient", None):
        found = read("HealthcareService", [("location.near", "52|-1|5|km"), ("service-type", "housing")], handling)
        assert found.check() is found and found.applied == (("service-type", "housing"),)
        assert [(p.field, p.reason) for p in found.ignored] == [
            ("location.near", "chained parameters are not supported; ignored")
        ]


def test_an_empty_value_is_ignored_and_is_no_error_even_under_strict_handling() -> None:
    found = read("Location", [("name", ""), ("organization", ""), ("_id", ""), ("_id", "a")], "strict").check()
    assert found.applied == (("_id", "a"),) and found.ignored == ()
    assert found.value("name") is None and found.values("_id") == ["a"]


def test_paging_parameters_are_taken_but_left_to_the_links_to_carry() -> None:
    found = read("CodeSystem", [("_count", "5"), ("url", "u"), ("_offset", "5")], "strict").check()
    assert found.applied == (("url", "u"),)


def test_a_second_value_of_a_parameter_taken_once_is_refused_when_strict_and_only_the_last_applied_when_lenient() -> (
    None
):
    query = [("name", "first"), ("name", "last"), ("_count", "1"), ("_count", "2")]
    assert refused("Organization", query) == [("name", "may be given only once"), ("_count", "may be given only once")]
    found = read("Organization", query, "lenient")
    assert found.applied == (("name", "last"),)
    assert [p.field for p in found.ignored] == ["name", "_count"]
    assert all("the last was applied" in p.reason for p in found.ignored)


def test_a_repeatable_parameter_applies_every_value_up_to_ten_and_more_is_invalid_whatever_the_handling() -> None:
    values = [("_lastUpdated", f"ge20{i:02}-01-01") for i in range(REPEATS)]
    assert read("HealthcareService", values, "strict").values("_lastUpdated") == [v for _, v in values]
    for handling in ("strict", "lenient", None):
        with pytest.raises(InvalidInput) as caught:
            read("HealthcareService", [("_id", str(i)) for i in range(REPEATS + 1)], handling)
        assert not isinstance(caught.value, Unsupported)
        assert [(p.field, p.reason) for p in caught.value.problems] == [("_id", f"at most {REPEATS} times")]


def test_a_parameter_name_is_named_without_control_characters_markup_or_great_length() -> None:
    assert shown_name("location.near") == "location.near"
    assert shown_name("_has:Observation:patient:code") == "_has:Observation:patient:code"
    assert shown_name("a\x00b<script>") == "a%00b%3Cscript%3E"
    assert shown_name("") == "(no name)"
    assert len(shown_name("x" * 5_000)) == 100
    (field, _), *_ = refused("Organization", [("\x1b[31mred", "1")])
    assert field == "%1B[31mred"


def test_many_unsupported_parameters_are_named_up_to_a_limit_and_the_rest_counted() -> None:
    query = [(f"p{i}", "1") for i in range(SHOWN + 5)]
    found = read("Organization", query, None)
    assert len(found.ignored) == SHOWN + 1 and found.ignored[-1].reason == "and 5 more parameters not supported"
    assert len(refused("Organization", query)) == SHOWN + 1


def test_every_search_takes_its_own_parameters_then_paging_and_format_and_nothing_twice() -> None:
    assert {p.name for p in RESULT} == {*PAGING, "_format"}
    for kind, own in SEARCH.items():
        names = [p.name for p in taken(kind)]
        assert names == [p.name for p in own] + [p.name for p in RESULT]
        assert len(set(names)) == len(names), kind
    assert "json" in FORMATS and "application/fhir+json" in FORMATS
