"""OS grid references as control rooms give them, read offline (service/domain/gridref.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.errors import InvalidInput, MalformedInput
from service.domain.gridref import as_written, format_reference, parse, to_point

BEN_NEVIS = "NN 166 712"


def test_the_ordnance_surveys_own_example_reads_to_the_metre() -> None:
    found = parse("TG 51409 13177")
    assert (found.easting, found.northing, found.size) == (651409, 313177, 1)


def test_spaces_and_case_do_not_matter() -> None:
    assert parse("TA 09 29") == parse("ta0929") == parse(" TA  0 9 2 9 ") == parse("TA\t09\t29")


@pytest.mark.parametrize(
    ("reference", "size"),
    [("TA 0 2", 10_000), ("TA 09 29", 1_000), ("TA 091 292", 100), ("TA 0912 2923", 10), ("TA 09123 29234", 1)],
)
def test_every_precision_from_two_to_ten_digits_names_a_square_holding_the_finer_ones(
    reference: str, size: int
) -> None:
    found = parse(reference)
    finest = parse("TA 09123 29234")
    assert found.size == size
    assert found.easting <= finest.easting < found.easting + size
    assert found.northing <= finest.northing < found.northing + size


def test_a_reference_becomes_the_middle_of_its_square_in_wgs84() -> None:
    summit = to_point(parse(BEN_NEVIS))  # Ben Nevis's summit: 56.7969 N, 5.0036 W
    assert abs(summit.lat - 56.7969) < 0.001 and abs(summit.lon - -5.0036) < 0.001
    hull = to_point(parse("TA 09 29"))  # the 1 km square over Hull's city centre
    assert abs(hull.lat - 53.750) < 0.01 and abs(hull.lon - -0.341) < 0.01


@pytest.mark.parametrize(
    "bad",
    ["", "TA", "TA 1", "TA 123 45", "TA 123456 123456", "TI 12 34", "12 34", "TA 09 29 X", "TA\x0009 29"],
)
def test_a_reference_that_is_not_one_is_malformed_naming_the_field(bad: str) -> None:
    with pytest.raises(MalformedInput) as refused:
        parse(bad, field="origin.grid_reference")
    assert refused.value.problems[0].field == "origin.grid_reference"


@given(
    st.integers(0, 699_999),
    st.integers(0, 1_299_999),
    st.sampled_from([2, 4, 6, 8, 10]),
)
def test_any_grid_position_written_at_any_precision_reads_back_to_the_square_holding_it(
    easting: int, northing: int, digits: int
) -> None:
    found = parse(format_reference(easting, northing, digits))
    assert found.easting <= easting < found.easting + found.size
    assert found.northing <= northing < found.northing + found.size


@pytest.mark.parametrize("off_the_grid", ["AA 12 34", "ZZ 12 34", "EA 1 1"])
def test_letters_that_name_no_square_of_the_grid_break_a_rule_naming_the_field(off_the_grid: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(off_the_grid, field="origin.grid_reference")
    assert not isinstance(refused.value, MalformedInput)
    assert refused.value.problems[0].field == "origin.grid_reference"


@pytest.mark.parametrize(
    ("given_as", "written"),
    [("ta02", "TA 0 2"), ("TA0929", "TA 09 29"), ("ta 091292", "TA 091 292"), ("TA09122923", "TA 0912 2923")],
)
def test_a_reference_is_written_back_as_the_os_writes_it_at_the_precision_given(given_as: str, written: str) -> None:
    assert as_written(parse(given_as)) == written
