"""ETags and If-Match, partial updates, change records, decode-error paths, settings."""

from __future__ import annotations

import msgspec
import pytest

from service.domain.decoding import field_problem
from service.domain.history import field_changes
from service.domain.model import FieldChange, ServiceBody
from service.domain.patch import ServicePatch
from service.domain.versioning import apply_patch, etag, if_match_allows
from service.settings import Settings, SettingsError
from service.store.migrate import MigrationError, discover


def test_if_match_absent_or_star_allows_any_version() -> None:
    assert if_match_allows(None, 3)
    assert if_match_allows("*", 3)


def test_if_match_allows_only_the_current_strong_tag() -> None:
    assert if_match_allows(etag(3), 3)
    assert if_match_allows('"2", "3"', 3)
    assert not if_match_allows(etag(2), 3)
    assert not if_match_allows('W/"3"', 3)


def test_a_patch_changes_only_the_fields_it_names() -> None:
    base = msgspec.convert(
        {
            "slug": "s",
            "name": "Old",
            "organisation": "O",
            "kind": "other",
            "contexts": ["street"],
            "access_modes": ["phone"],
            "catchment": {"type": "national"},
            "pathway_priority": 3,
        },
        ServiceBody,
    )
    patched = apply_patch(base, msgspec.json.decode(b'{"name": "New", "pathway_priority": null}', type=ServicePatch))
    assert (patched.name, patched.pathway_priority, patched.slug) == ("New", None, "s")


def test_field_changes_name_nested_leaves_old_and_new() -> None:
    old = {"name": "A", "eligibility": {"age": {"min": 18, "max": None}, "needs": ["x"]}}
    new = {"name": "A", "eligibility": {"age": {"min": 16, "max": None}, "needs": ["x", "y"]}}
    assert field_changes(old, new) == (
        FieldChange(field="eligibility.age.min", old=18, new=16),
        FieldChange(field="eligibility.needs", old=["x"], new=["x", "y"]),
    )


def test_a_creation_records_every_field_as_new() -> None:
    assert field_changes(None, {"a": 1}) == (FieldChange(field="a", old=None, new=1),)


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("Expected `int`, got `str` - at `$.eligibility.age.min`", "eligibility.age.min"),
        ("Object contains unknown field `colour`", "colour"),
        ("Object contains unknown field `colour` - at `$.contacts`", "contacts.colour"),
        ("Object missing required field `slug`", "slug"),
        ("Expected `array` of length >= 4 - at `$.geometry.coordinates[0]`", "geometry.coordinates[0]"),
    ],
)
def test_decode_errors_name_the_field(message: str, field: str) -> None:
    assert field_problem(message).field == field


def test_settings_come_from_the_environment_with_defaults() -> None:
    s = Settings.from_env({"PATHWAYS_PORT": "9000", "PATHWAYS_LOAD_DEMO": "false", "DATABASE_URL": ""})
    assert (s.port, s.load_demo, s.database_url, s.host) == (9000, False, None, "127.0.0.1")
    assert s.near_miss_minutes == 30
    assert Settings.from_env({"PATHWAYS_NEAR_MISS_MINUTES": "45"}).near_miss_minutes == 45
    assert (
        s.transition_window_months,
        Settings.from_env({"PATHWAYS_TRANSITION_WINDOW_MONTHS": "3"}).transition_window_months,
    ) == (6, 3)


@pytest.mark.parametrize(
    "env",
    [
        {"PATHWAYS_PORT": "eighty"},
        {"PATHWAYS_PORT": "70000"},
        {"PATHWAYS_LOAD_DEMO": "maybe"},
        {"PATHWAYS_NEAR_MISS_MINUTES": "0"},
        {"PATHWAYS_NEAR_MISS_MINUTES": "241"},
        {"PATHWAYS_NEAR_MISS_MINUTES": "half an hour"},
        {"PATHWAYS_TRANSITION_WINDOW_MONTHS": "0"},
        {"PATHWAYS_TRANSITION_WINDOW_MONTHS": "25"},
    ],
)
def test_bad_settings_are_refused_with_the_variable_named(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env)


def test_migrations_must_be_numbered_without_gaps(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    d = Path(str(tmp_path))
    (d / "0001_a.sql").write_text("select 1")
    (d / "0003_c.sql").write_text("select 1")
    with pytest.raises(MigrationError, match="without gaps"):
        discover(d)


def test_a_rate_limit_of_zero_switches_it_off_and_negative_is_refused() -> None:
    assert Settings.from_env({"PATHWAYS_RATE_LIMIT_PER_MINUTE": "0"}).rate_limit_per_minute == 0
    with pytest.raises(SettingsError, match="PATHWAYS_RATE_LIMIT_PER_MINUTE"):
        Settings.from_env({"PATHWAYS_RATE_LIMIT_PER_MINUTE": "-1"})
    with pytest.raises(SettingsError, match="PATHWAYS_READ_ACCESS"):
        Settings.from_env({"PATHWAYS_READ_ACCESS": "closed"})


def test_every_kind_of_service_has_words_for_people() -> None:
    from typing import get_args

    from service.domain.types import ServiceKind
    from service.pages.words import KIND_WORDS, distance_words

    assert set(KIND_WORDS) == set(get_args(ServiceKind))
    assert (
        KIND_WORDS["liaison_diversion"] == "Liaison and diversion" and KIND_WORDS["womens_centre"] == "Women's centre"
    )
    assert distance_words(0.0, 0, "custody_suite") == "At this suite"
    assert distance_words(0.02, 1, None) == "Here"
    assert distance_words(2.94, 8, "custody_suite") == "2.9 km, about 8 min by road"
