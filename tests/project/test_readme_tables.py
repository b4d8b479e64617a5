"""The README states every rule the code applies: its tables of kinds, roles and codes are the code's own lists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from service.domain.gap_words import EXCLUSION_CODES, GAP_PHRASES
from service.domain.pathway import (
    DEFAULT_ROLES,
    ELSEWHERE,
    FINDS_NEEDS_KINDS,
    NOTE_CODES,
    ROLES,
    STEPS,
)
from service.domain.rcrp import Call, control_room_steps, threshold
from service.domain.reasons import OPTION_CODES
from service.domain.transitions import IMPLIED
from service.domain.types import ServiceKind

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def table(header: str) -> list[list[str]]:
    """The rows of the README's table whose header row starts with these cells, each cell stripped of backticks."""
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip().startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip().strip("|").split("|")])
    return rows


def test_the_readme_lists_every_kind_with_its_default_role_and_whether_it_finds_needs() -> None:
    rows = table("| kind | default role | finds needs by default |")
    assert [r[0] for r in rows] == list(get_args(ServiceKind))
    for kind, role, finds in rows:
        assert DEFAULT_ROLES[kind] == role, kind  # type: ignore[index]
        assert (kind in FINDS_NEEDS_KINDS) == (finds == "yes"), kind


def test_the_readme_lists_every_role_with_the_titles_of_its_steps() -> None:
    rows = table("| role | its step |")
    assert [r[0] for r in rows] == list(ROLES)
    titles = {role: words for role, words in rows}
    for steps in STEPS.values():
        for s in steps:
            assert f'"{s.title}"' in titles[s.role], (s.role, s.title)
    for role, s in ELSEWHERE.items():
        assert s.optional and s.role == role


def test_the_readme_names_every_step_of_the_control_rooms_pathway() -> None:
    said = " ".join(README.split())
    for call in (Call(medical_care="yes", risk_to_life="yes"), Call(crime="no", risk_to_life="no"), Call()):
        for s in control_room_steps(threshold(call), call.medical_care):
            assert (s.optional and s in ELSEWHERE.values()) or f"**{s.title}**" in said, s.title


def test_the_readme_lists_every_code_an_option_can_carry() -> None:
    assert [r[0] for r in table("| option code | says |")] == list(OPTION_CODES)


def test_the_readme_lists_every_exclusion_code_with_a_gaps_words_for_it() -> None:
    rows = table("| exclusion code | rule | in a gap's words |")
    assert {r[0] for r in rows} == set(EXCLUSION_CODES)
    for code, _, words in rows:
        if code in GAP_PHRASES:
            assert words.startswith(GAP_PHRASES[code][0]), code


def test_the_readme_lists_every_step_note_code() -> None:
    assert [r[0] for r in table("| note code | step | when |")] == list(NOTE_CODES)


def test_the_readme_states_every_circumstance_one_implies() -> None:
    for given, implied in IMPLIED.items():
        assert re.search(rf"`{given}` implies `{implied}`", README), given
