"""The youth-to-adult transition at 18 (service/domain/transitions.py): each rule named for the guidance behind it."""

from __future__ import annotations

from service.domain.transitions import (
    transfer_to_probation_due,
    transition_notes,
    with_implied,
    young_adult_pathway,
    youth_justice_for_a_child,
)


def codes(age: float, needs: tuple[str, ...] = (), circumstances: tuple[str, ...] = (), window: int = 6) -> list[str]:
    return [n.code for n in transition_notes(age, needs, circumstances, window)]


def test_a_child_known_to_the_yos_or_under_its_supervision_belongs_with_the_youth_justice_service() -> None:
    assert youth_justice_for_a_child(15, ("known_to_yos",))
    assert youth_justice_for_a_child(17.99, ("youth_justice_supervision",))
    assert not youth_justice_for_a_child(15, ("admits_offence",))
    assert not youth_justice_for_a_child(18, ("known_to_yos",))


def test_the_joint_transitions_protocols_flag_the_transfer_to_probation_in_the_months_before_18() -> None:
    assert transfer_to_probation_due(17.8, ("known_to_yos",), 6)
    assert transfer_to_probation_due(17.5, ("youth_justice_supervision",), 6)
    assert not transfer_to_probation_due(17.4, ("known_to_yos",), 6)  # not yet: outside the window
    assert transfer_to_probation_due(17.4, ("known_to_yos",), 12)  # the window is configurable
    assert not transfer_to_probation_due(17.8, (), 6)  # not in the youth justice system
    assert not transfer_to_probation_due(18.0, ("known_to_yos",), 6)  # already an adult


def test_the_coming_transfer_is_said_in_months_and_in_words() -> None:
    [*_, transfer] = transition_notes(17.8, (), ("known_to_yos",), 6)
    assert transfer.code == "TRANSFER_TO_PROBATION_DUE"
    assert transfer.text.startswith("Turns 18 in about 3 months: the move from the youth justice service to probation")
    assert transition_notes(17.95, (), ("known_to_yos",), 6)[-1].text.startswith("Turns 18 within a month")


def test_t2a_young_adults_known_to_the_yos_on_probation_or_needing_maturity_support_get_young_adult_services() -> None:
    assert young_adult_pathway(19, (), ("known_to_yos",))
    assert young_adult_pathway(23, (), ("on_probation",))
    assert young_adult_pathway(24.9, ("young_adult_maturity",), ())
    assert not young_adult_pathway(25, ("young_adult_maturity",), ())  # T2A's maturity approach stops at 25
    assert not young_adult_pathway(30, (), ("on_probation",))
    assert not young_adult_pathway(19, ("alcohol",), ())


def test_each_transition_note_has_its_own_code() -> None:
    assert codes(15, circumstances=("known_to_yos",)) == ["YOUTH_JUSTICE"]
    assert codes(17.8, circumstances=("youth_justice_supervision",)) == ["YOUTH_JUSTICE", "TRANSFER_TO_PROBATION_DUE"]
    assert codes(19, circumstances=("known_to_yos",)) == ["YOUNG_ADULT"]
    assert codes(35, ("alcohol",)) == []


def test_a_young_person_under_youth_justice_supervision_counts_as_known_to_the_yos() -> None:
    vocab = {"known_to_yos", "youth_justice_supervision"}
    assert with_implied(("youth_justice_supervision",), vocab) == ("youth_justice_supervision", "known_to_yos")
    assert with_implied(("known_to_yos", "youth_justice_supervision"), vocab) == (
        "known_to_yos",
        "youth_justice_supervision",
    )
    assert with_implied(("youth_justice_supervision",), {"youth_justice_supervision"}) == ("youth_justice_supervision",)
