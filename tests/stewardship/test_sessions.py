"""The pure rules of sessions and the capacity form (service/stewardship/sessions.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from service.domain.schedule import LONDON
from service.settings import Settings, SettingsError
from service.stewardship.claims import ClaimRules, identity_from_claims, role_map
from service.stewardship.sessions import (
    Session,
    ago,
    capacity_from_form,
    capacity_said,
    new_token,
    session_ended,
    token_id,
    tokens_match,
)

NOW = dt.datetime(2026, 12, 7, 2, 40, tzinfo=dt.UTC)
IDLE = dt.timedelta(minutes=30)


def session(seen: dt.datetime = NOW, expires: dt.datetime = NOW + dt.timedelta(hours=12)) -> Session:
    return Session(id="x", key_hash="y", csrf="z", created_at=NOW, seen_at=seen, expires_at=expires)


def test_a_session_token_has_256_random_bits_and_only_its_hash_is_kept() -> None:
    token = new_token()
    assert len(token) >= 43 and token != new_token()
    assert token_id(token) != token and len(token_id(token)) == 64


def test_a_session_ends_at_its_lifetime_or_after_the_idle_timeout_and_not_before() -> None:
    assert session_ended(session(), NOW, IDLE) is None
    assert session_ended(session(seen=NOW - IDLE + dt.timedelta(seconds=1)), NOW, IDLE) is None
    assert session_ended(session(seen=NOW - IDLE), NOW, IDLE) == "idle"
    assert session_ended(session(expires=NOW), NOW, IDLE) == "expired"


def test_a_form_token_matches_only_the_one_kept_and_a_missing_one_never_does() -> None:
    assert tokens_match("abc", "abc")
    assert not tokens_match("abc", "abd")
    assert not tokens_match("", "")
    assert not tokens_match(None, "abc")
    assert not tokens_match("abc", None)


def test_full_for_a_quick_pick_lasts_that_many_hours() -> None:
    capacity, problems = capacity_from_form({"status": "full", "full_for": "2", "note": "both beds taken"}, NOW)
    assert problems == [] and capacity is not None
    assert (capacity.status, capacity.until, capacity.note) == ("full", NOW + dt.timedelta(hours=2), "both beds taken")


def test_full_until_a_time_that_has_passed_today_means_that_time_tomorrow_by_the_london_clock() -> None:
    capacity, _ = capacity_from_form({"status": "full", "full_for": "time", "full_until": "01:30"}, NOW)
    assert capacity is not None and capacity.until is not None
    assert capacity.until.astimezone(LONDON) == dt.datetime(2026, 12, 8, 1, 30, tzinfo=LONDON)
    capacity, _ = capacity_from_form({"status": "full", "full_for": "time", "full_until": "06:00"}, NOW)
    assert capacity is not None and capacity.until == dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)


def test_available_and_limited_need_no_time_and_last_until_changed() -> None:
    for status in ("available", "limited"):
        capacity, problems = capacity_from_form({"status": status}, NOW)
        assert problems == [] and capacity is not None and capacity.until is None


def test_the_form_names_each_field_it_refuses() -> None:
    def fields(form: dict[str, str]) -> list[str]:
        return [p.field for p in capacity_from_form(form, NOW)[1]]

    assert fields({}) == ["status"]
    assert fields({"status": "closed"}) == ["status"]
    assert fields({"status": "full"}) == ["full_for"]
    assert fields({"status": "full", "full_for": "time", "full_until": "25:00"}) == ["full_until"]
    assert fields({"status": "full", "full_for": "time", "full_until": "soon"}) == ["full_until"]
    assert fields({"status": "available", "note": "x" * 201}) == ["note"]
    assert fields({"status": "available", "note": "a\x00b"}) == ["note"]


def test_capacity_is_said_as_a_provider_reads_it_and_reads_as_not_known_once_lapsed() -> None:
    capacity, _ = capacity_from_form({"status": "full", "full_for": "4", "note": "both beds taken"}, NOW)
    assert capacity is not None
    assert capacity_said(capacity, NOW) == "Full until Mon 07 Dec 06:40 — both beds taken"
    assert capacity_said(capacity, NOW + dt.timedelta(hours=5)) == "Not known"


def test_how_long_ago_is_said_in_the_largest_whole_unit() -> None:
    assert ago(NOW, NOW) == "just now"
    assert ago(NOW - dt.timedelta(minutes=1), NOW) == "1 minute ago"
    assert ago(NOW - dt.timedelta(hours=3, minutes=5), NOW) == "3 hours ago"
    assert ago(NOW - dt.timedelta(days=2), NOW) == "2 days ago"


def test_claims_give_our_role_and_scope_and_several_roles_give_the_most_trusted() -> None:
    rules = ClaimRules()
    editor = identity_from_claims({"sub": "u1", "name": "Jo", "role": "editor", "areas": ["E23000012"]}, rules)
    assert editor is not None and (editor.kind, editor.name, editor.role) == ("oidc", "Jo", "editor")
    assert editor.actor == "oidc:Jo (u1)"
    assert editor.areas == frozenset({"E23000012"})
    both = identity_from_claims({"sub": "u2", "role": ["reader", "admin"]}, rules)
    assert both is not None and both.role == "admin" and both.name == "u2"


def test_a_deployment_maps_its_providers_role_values_and_may_give_a_default_role() -> None:
    rules = ClaimRules(role_claim="roles", role_map=role_map("LD.Editor=editor, LD.Boss=emperor"))
    assert role_map("LD.Editor=editor, LD.Boss=emperor") == {"LD.Editor": "editor"}
    mapped = identity_from_claims({"sub": "u", "roles": ["LD.Editor"], "areas": ["E23000012", "E23000013"]}, rules)
    assert mapped is not None and mapped.role == "editor" and len(mapped.areas) == 2
    assert identity_from_claims({"sub": "u", "roles": ["LD.Boss"]}, rules) is None
    assert identity_from_claims({"sub": "u"}, ClaimRules(default_role="reader")) is not None


def test_claims_without_a_subject_or_with_junk_scopes_give_nothing_more_than_they_should() -> None:
    assert identity_from_claims({"role": "admin"}, ClaimRules()) is None
    odd = identity_from_claims(
        {"sub": "u", "role": "provider", "services": ["not-a-uuid", 7], "areas": ["ok1", "bad code!"]}, ClaimRules()
    )
    assert odd is not None and odd.services == frozenset() and odd.areas == frozenset({"ok1"})


def test_the_sign_in_settings_refuse_what_cannot_work() -> None:
    with pytest.raises(SettingsError, match="PATHWAYS_OIDC_CLIENT_ID"):
        Settings.from_env({"PATHWAYS_OIDC_ISSUER": "https://idp.example"})
    with pytest.raises(SettingsError, match="PATHWAYS_OIDC_DEFAULT_ROLE"):
        Settings.from_env({"PATHWAYS_OIDC_DEFAULT_ROLE": "emperor"})
    with pytest.raises(SettingsError, match="PATHWAYS_SESSION_HOURS"):
        Settings.from_env({"PATHWAYS_SESSION_HOURS": "0"})
    with pytest.raises(SettingsError, match="PATHWAYS_PUBLIC_URL"):
        Settings.from_env(
            {
                "PATHWAYS_OIDC_ISSUER": "https://i.example",
                "PATHWAYS_OIDC_CLIENT_ID": "c",
                "PATHWAYS_OIDC_CLIENT_SECRET": "s",
            }
        )
    fine = Settings.from_env(
        {
            "PATHWAYS_OIDC_ISSUER": "https://idp.example",
            "PATHWAYS_PUBLIC_URL": "https://pathways.example",
            "PATHWAYS_OIDC_CLIENT_ID": "c",
            "PATHWAYS_OIDC_CLIENT_SECRET": "s",
            "PATHWAYS_SESSION_IDLE_MINUTES": "15",
        }
    )
    assert (fine.oidc_issuer, fine.session_idle_minutes) == ("https://idp.example", 15)


def test_a_claim_never_gives_a_role_by_happening_to_hold_one_of_our_role_names() -> None:
    groups = ClaimRules(role_claim="groups", role_map=role_map("pathways-editors=editor"))
    found = identity_from_claims({"sub": "u", "groups": ["pathways-editors", "admin"]}, groups)
    assert found is not None and found.role == "editor"
    assert identity_from_claims({"sub": "u", "role": "Ward admin"}, ClaimRules()) is None
    assert identity_from_claims({"sub": "u", "role": "reader admin"}, ClaimRules()) is None


def test_a_name_is_one_line_of_plain_text_and_service_ids_are_written_as_the_store_writes_them() -> None:
    found = identity_from_claims(
        {
            "sub": "u",
            "role": "provider",
            "name": "Jo\nBloggs\x07",
            "services": ["ABCDEF00-0000-0000-0000-000000000001"],
        },
        ClaimRules(),
    )
    assert found is not None and found.name == "Jo Bloggs"
    assert found.services == frozenset({"abcdef00-0000-0000-0000-000000000001"})


def test_a_time_of_day_is_ascii_digits_on_the_24_hour_clock() -> None:
    for clock in ("99999999999999999999:00", "1:99999999999999999999", "\u0660\u0666:\u0660\u0660", "24:00", "6"):
        _, problems = capacity_from_form({"status": "full", "full_for": "time", "full_until": clock}, NOW)
        assert [p.field for p in problems] == ["full_until"], clock
    capacity, _ = capacity_from_form({"status": "full", "full_for": "time", "full_until": "6:05"}, NOW)
    assert capacity is not None and capacity.until == dt.datetime(2026, 12, 7, 6, 5, tzinfo=dt.UTC)


def test_an_id_token_for_several_audiences_must_name_this_client_as_its_authorised_party() -> None:
    from service.stewardship.oidc import _for_us

    assert _for_us({"aud": "me"}, "me") and _for_us({"aud": ["me"]}, "me")
    assert not _for_us({"aud": ["me", "evil"]}, "me")
    assert _for_us({"aud": ["me", "other"], "azp": "me"}, "me")
    assert not _for_us({"aud": "me", "azp": "evil"}, "me")
