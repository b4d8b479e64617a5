"""The ORUK schema check itself (tests/openreferral/oruk_schemas.py): the profile's own examples conform, and documents
that break the profile do not, so that a pass on the project's output means something."""

from __future__ import annotations

import json

import pytest

from tests.openreferral.oruk_schemas import EXAMPLES, OPENREFERRAL, merge_patch, oruk_schema, problems

pytestmark = pytest.mark.skipif(
    not OPENREFERRAL.is_dir(), reason="../shared/openreferral is absent (a user's own clone); CI always has it"
)


def example(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((EXAMPLES / name).read_text())
    return loaded


def test_a_merge_patch_merges_objects_removes_nulls_and_replaces_the_rest() -> None:
    assert merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": None, "e": 4}, "f": [5]}) == {
        "a": 1,
        "b": {"d": 3, "e": 4},
        "f": [5],
    }
    assert merge_patch({"a": 1}, ["x"]) == ["x"]


@pytest.mark.parametrize(
    ("example_name", "compiled", "entity"),
    [
        ("service_full.json", "service.json", "service"),
        ("service_at_location_full.json", "service_at_location.json", "service_at_location"),
        ("organization_full.json", "organization.json", "organization"),
    ],
)
def test_the_profiles_own_examples_conform(example_name: str, compiled: str, entity: str) -> None:
    assert problems(example(example_name), compiled, entity) == []


def test_each_item_of_the_profiles_service_list_example_conforms() -> None:
    page = example("service_list.json")
    contents = page["contents"]
    assert isinstance(contents, list) and contents
    for item in contents:
        assert problems(item, "service_list.json", "service") == []


def test_the_profile_takes_out_what_it_removes_and_requires_what_it_requires() -> None:
    service = oruk_schema("service.json", "service")
    assert "phones" not in service["properties"] and "metadata" not in service["properties"]
    assert set(service["required"]) == {"id", "name", "status"}
    broken = dict(example("service_full.json"))
    del broken["status"]
    broken["minimum_age"] = "eighteen"
    found = problems(broken, "service.json", "service")
    assert any("'status' is a required property" in p for p in found)
    assert any(p.startswith("minimum_age:") for p in found)
