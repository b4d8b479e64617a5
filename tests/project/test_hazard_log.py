"""The hazard log (docs/safety/hazard-log.md) names, for every control, the tests that show it works. These tests
hold it to that: every test it names exists, every hazard has controls, every control has evidence or says plainly
that it has none yet, hazard and control ids are unique, and each risk is the one DCB0129's matrix gives."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "docs" / "safety" / "hazard-log.md"

REFERENCE = re.compile(
    r"(?P<file>tests/[A-Za-z0-9_./-]+?\.py)(?P<names>(?:::[A-Za-z_][A-Za-z0-9_]*)+)(?P<param>\[[^\]\n]*\])?"
)
"""A pytest node id: `tests/path/test_file.py::test_name`, `::Class::test_name`, with an optional `[param id]`."""
HAZARD = re.compile(r"^### (?P<id>HAZ-\d{3}): (?P<title>.+)$", re.MULTILINE)
CONTROL = re.compile(r"\*\*(?P<id>HAZ-\d{3}\.C\d+)\*\*")
FIELD = re.compile(r"^- \*\*(?P<name>[A-Za-z ]+):\*\*", re.MULTILINE)
NONE_YET = re.compile(r"evidence: none yet", re.IGNORECASE)
SUMMARY_ROW = re.compile(
    r"^\| (?P<id>HAZ-\d{3}) \| (?P<title>.+?) \| (?P<initial>\d) \| (?P<residual>\d) \| (?P<status>.+?) \|$",
    re.MULTILINE,
)
RISK = re.compile(r"severity (?P<severity>[A-Za-z]+), likelihood (?P<likelihood>[A-Za-z ]+?): risk (?P<risk>\d)")

FIELDS = (
    "Description",
    "Causes",
    "Effect",
    "Possible harm",
    "Initial risk",
    "Controls",
    "Residual risk",
    "Status",
    "Owner",
)
SEVERITIES = ("Minor", "Significant", "Considerable", "Major", "Catastrophic")
MATRIX = {  # DCB0129's risk matrix: likelihood by severity (in the order above) gives the risk rating, 1 to 5
    "Very high": (3, 4, 4, 5, 5),
    "High": (2, 3, 3, 4, 5),
    "Medium": (2, 2, 3, 3, 4),
    "Low": (1, 2, 2, 3, 4),
    "Very low": (1, 1, 2, 2, 3),
}


@dataclass(frozen=True)
class Control:
    id: str
    text: str
    references: tuple[str, ...]
    none_yet: bool


@dataclass(frozen=True)
class Hazard:
    id: str
    title: str
    fields: dict[str, str]
    controls: tuple[Control, ...]


def references(text: str) -> list[str]:
    """Every pytest node id in the text, as written."""
    return [m.group(0) for m in REFERENCE.finditer(text)]


def parse_hazards(markdown: str) -> list[Hazard]:
    """Each `### HAZ-NNN: title` section, its `- **Field:**` entries, and the controls between `Controls` and the
    next field, each marked `**HAZ-NNN.Cn**`."""
    heads = list(HAZARD.finditer(markdown))
    hazards = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(markdown)
        section = markdown[head.end() : end]
        section = re.split(r"^#{1,3} ", section, maxsplit=1, flags=re.MULTILINE)[0]  # up to the next heading
        marks = list(FIELD.finditer(section))
        fields = {
            m.group("name"): section[m.end() : marks[j + 1].start() if j + 1 < len(marks) else len(section)].strip()
            for j, m in enumerate(marks)
        }
        block = fields.get("Controls", "")
        starts = list(CONTROL.finditer(block))
        controls = []
        for j, start in enumerate(starts):
            text = block[start.end() : starts[j + 1].start() if j + 1 < len(starts) else len(block)]
            controls.append(
                Control(
                    id=start.group("id"),
                    text=text.strip(),
                    references=tuple(references(text)),
                    none_yet=bool(NONE_YET.search(text)),
                )
            )
        hazards.append(Hazard(id=head.group("id"), title=head.group("title"), fields=fields, controls=tuple(controls)))
    return hazards


def defined_tests(source: str) -> set[str]:
    """The test functions a file defines: `name` for each top-level function, `Class::name` for each method (of
    nested classes too, as `Outer::Inner::name`)."""
    found: set[str] = set()

    def walk(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.add(prefix + node.name)
            elif isinstance(node, ast.ClassDef):
                walk(node.body, f"{prefix}{node.name}::")

    walk(ast.parse(source).body, "")
    return found


def missing_tests(names: list[str], root: Path) -> list[str]:
    """The references that name a file that does not exist, or a test the file does not define."""
    missing = []
    parsed: dict[Path, set[str]] = {}
    for name in names:
        match = REFERENCE.fullmatch(name)
        if match is None:
            missing.append(f"{name}: not a pytest node id")
            continue
        path = root / match.group("file")
        if not path.is_file():
            missing.append(f"{name}: no file {match.group('file')}")
            continue
        if path not in parsed:
            parsed[path] = defined_tests(path.read_text(encoding="utf-8"))
        test = match.group("names").removeprefix("::")  # a parametrised id's [case] is not part of the name
        if test not in parsed[path]:
            missing.append(f"{name}: {match.group('file')} defines no {test}")
    return missing


def problems_of(hazards: list[Hazard]) -> list[str]:
    """What the log must not have: a hazard without a field or a control, a control with neither evidence nor
    'none yet', a control numbered for another hazard, an id used twice, a risk the matrix does not give."""
    problems = []
    seen: set[str] = set()
    for hazard in hazards:
        if hazard.id in seen:
            problems.append(f"{hazard.id} is used twice")
        seen.add(hazard.id)
        for name in FIELDS:
            if not hazard.fields.get(name):
                problems.append(f"{hazard.id} has no {name}")
        if not hazard.controls:
            problems.append(f"{hazard.id} has no control")
        for control in hazard.controls:
            if control.id in seen:
                problems.append(f"{control.id} is used twice")
            seen.add(control.id)
            if not control.id.startswith(hazard.id + "."):
                problems.append(f"{control.id} is listed under {hazard.id}")
            if not control.references and not control.none_yet:
                problems.append(f"{control.id} names no test and does not say 'evidence: none yet'")
        for name in ("Initial risk", "Residual risk"):
            problems.extend(risk_problems(hazard.id, name, hazard.fields.get(name, "")))
    return problems


def risk_problems(hazard: str, name: str, text: str) -> list[str]:
    match = RISK.search(text)
    if match is None:
        return [f"{hazard}'s {name} does not read 'severity S, likelihood L: risk N'"]
    severity, likelihood, risk = match.group("severity"), match.group("likelihood"), int(match.group("risk"))
    if severity not in SEVERITIES or likelihood not in MATRIX:
        return [f"{hazard}'s {name}: {severity!r} or {likelihood!r} is not one of DCB0129's categories"]
    expected = MATRIX[likelihood][SEVERITIES.index(severity)]
    if risk != expected:
        return [f"{hazard}'s {name}: {severity} and {likelihood} give risk {expected}, not {risk}"]
    return []


def the_log() -> str:
    return LOG.read_text(encoding="utf-8")


def test_every_test_the_hazard_log_names_exists() -> None:
    named = references(the_log())
    assert named, "the hazard log names no test"
    missing = missing_tests(sorted(set(named)), ROOT)
    assert not missing, "the hazard log names tests that do not exist:\n" + "\n".join(missing)


def test_every_hazard_has_its_fields_and_controls_and_every_control_has_evidence_or_says_none_yet() -> None:
    hazards = parse_hazards(the_log())
    assert len(hazards) >= 7
    problems = problems_of(hazards)
    assert not problems, "\n".join(problems)


def test_hazard_ids_are_unique_and_numbered_in_order() -> None:
    ids = [h.id for h in parse_hazards(the_log())]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    assert ids == [f"HAZ-{n:03d}" for n in range(1, len(ids) + 1)]


def test_the_summary_table_agrees_with_each_hazard() -> None:
    rows = {
        m.group("id"): (m.group("title"), m.group("initial"), m.group("residual"), m.group("status"))
        for m in SUMMARY_ROW.finditer(the_log())
    }
    hazards = parse_hazards(the_log())
    assert sorted(rows) == [h.id for h in hazards], "the summary lists other hazards than the log"
    for h in hazards:
        initial, residual = (RISK.search(h.fields[name]) for name in ("Initial risk", "Residual risk"))
        assert initial is not None and residual is not None
        title, shown_initial, shown_residual, status = rows[h.id]
        assert (title, shown_initial, shown_residual) == (h.title, initial.group("risk"), residual.group("risk")), h.id
        assert h.fields["Status"].startswith(status), h.id


def test_every_test_named_is_named_within_a_hazards_controls() -> None:
    """A test named elsewhere in the log (the introduction) would be checked for existing but prove nothing."""
    in_controls = {r for h in parse_hazards(the_log()) for c in h.controls for r in c.references}
    assert set(references(the_log())) == in_controls


def test_the_checker_finds_a_missing_file_a_missing_test_and_a_parametrised_or_class_test_that_exists(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "tests" / "unit"
    folder.mkdir(parents=True)
    (folder / "test_x.py").write_text(
        "def test_a() -> None: ...\n"
        "async def test_b() -> None: ...\n"
        "class TestGroup:\n"
        "    def test_c(self) -> None: ...\n"
        "    class TestInner:\n"
        "        async def test_d(self) -> None: ...\n",
        encoding="utf-8",
    )
    named = references(
        "`tests/unit/test_x.py::test_a[17.99-False]`, `tests/unit/test_x.py::test_b`, "
        "`tests/unit/test_x.py::TestGroup::test_c`, `tests/unit/test_x.py::TestGroup::TestInner::test_d`, "
        "`tests/unit/test_x.py::test_gone`, `tests/unit/test_y.py::test_a`, `tests/unit/test_x.py::TestGroup::test_a`"
    )
    assert len(named) == 7
    assert missing_tests(named, tmp_path) == [
        "tests/unit/test_x.py::test_gone: tests/unit/test_x.py defines no test_gone",
        "tests/unit/test_y.py::test_a: no file tests/unit/test_y.py",
        "tests/unit/test_x.py::TestGroup::test_a: tests/unit/test_x.py defines no TestGroup::test_a",
    ]


def test_the_checker_finds_a_hazard_without_controls_a_control_without_evidence_and_a_wrong_risk() -> None:
    entry = (
        "### {id}: A hazard\n\n"
        "- **Description:** d\n- **Causes:**\n  - c\n- **Effect:** e\n- **Possible harm:** h\n"
        "- **Initial risk:** severity Major, likelihood High: risk {risk}\n"
        "- **Controls:**\n{controls}"
        "- **Residual risk:** severity Minor, likelihood Very low: risk 1\n"
        "- **Status:** Open\n- **Owner:** o\n\n"
    )
    good = (
        "  - **HAZ-001.C1** A rule.\n    - `tests/unit/test_x.py::test_a`\n"
        "  - **HAZ-001.C2** Evidence: none yet (open)\n"
    )
    markdown = (
        entry.format(id="HAZ-001", risk=4, controls=good)
        + entry.format(id="HAZ-002", risk=3, controls="  - **HAZ-002.C1** A promise.\n  - **HAZ-001.C2** x\n")
        + entry.format(id="HAZ-002", risk=4, controls="")
    )
    hazards = parse_hazards(markdown)
    assert [c.id for c in hazards[0].controls] == ["HAZ-001.C1", "HAZ-001.C2"]
    assert hazards[0].controls[0].references == ("tests/unit/test_x.py::test_a",)
    assert hazards[0].controls[1].none_yet
    assert problems_of(hazards) == [
        "HAZ-002.C1 names no test and does not say 'evidence: none yet'",
        "HAZ-001.C2 is used twice",
        "HAZ-001.C2 is listed under HAZ-002",
        "HAZ-001.C2 names no test and does not say 'evidence: none yet'",
        "HAZ-002's Initial risk: Major and High give risk 4, not 3",
        "HAZ-002 is used twice",
        "HAZ-002 has no Controls",
        "HAZ-002 has no control",
    ]
