"""A service's taxonomy terms are held as numbers (service/openreferral/published.py), a few bytes a service: the filter
by term must answer exactly as a set of the term ids would, however many terms the vocabulary grows to."""

from __future__ import annotations

from service.openreferral.published import holds, numbered


def test_terms_are_numbered_once_each_and_held_as_bytes_while_few() -> None:
    numbering: dict[str, int] = {}
    first = numbered({"need:a", "need:b"}, numbering)
    second = numbered({"need:b", "need:c"}, numbering)
    assert isinstance(first, bytes) and isinstance(second, bytes)
    assert numbering == {"need:a": numbering["need:a"], "need:b": numbering["need:b"], "need:c": 2}
    assert holds(second, [numbering["need:b"], numbering["need:c"]])
    assert not holds(first, [numbering["need:c"]])


def test_a_term_nothing_carries_matches_no_service() -> None:
    numbering: dict[str, int] = {}
    held = numbered({"need:a"}, numbering)
    assert not holds(held, [numbering.get("need:unknown")])
    assert holds(held, [])


def test_the_filter_answers_as_sets_would_past_256_terms() -> None:
    numbering: dict[str, int] = {}
    services = [{f"t{i}", f"t{(i * 7) % 300}", f"t{(i * 13) % 300}"} for i in range(300)]
    held = [numbered(terms, numbering) for terms in services]
    assert isinstance(held[0], bytes) and any(isinstance(h, tuple) for h in held)
    for wanted in ({"t3"}, {"t260"}, {"t3", "t21"}, {"t299", "t0"}, {"t10", "t270"}):
        numbers = [numbering.get(t) for t in wanted]
        assert [holds(h, numbers) for h in held] == [wanted <= terms for terms in services]
