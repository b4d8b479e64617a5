"""The e-mails in words, and the audit's words (service/stewardship/notices.py, problems.py): pure."""

from __future__ import annotations

import datetime as dt

from service.domain.model import Verification
from service.domain.review import review_of
from service.stewardship.notices import change_mail, digest_mail, problem_report_mail
from service.stewardship.problems import audit_words, note_problems

TODAY = dt.date(2026, 12, 7)


def test_a_report_mail_says_there_is_a_note_but_never_carries_it() -> None:
    mail = problem_report_mail("e@example.org", "Sam", "Hull line", "The phone number is wrong", True, "https://x/")
    assert "It has a note" in mail.body and "https://x/account/problem-reports" in mail.body
    assert mail.subject == "Problem reported: Hull line"


def test_the_digest_is_not_sent_when_nothing_is_due_and_lists_overdue_before_due_soon() -> None:
    assert digest_mail("e@example.org", "Sam", [], TODAY, "https://x") is None
    old = review_of(Verification(verified_at=dt.datetime(2026, 3, 3, tzinfo=dt.UTC), verified_by="x"), TODAY)
    soon = review_of(Verification(verified_at=dt.datetime(2026, 6, 10, tzinfo=dt.UTC), verified_by="x"), TODAY)
    mail = digest_mail("e@example.org", "Sam", [("Old", "old", old), ("Soon", "soon", soon)], TODAY, "https://x")
    assert mail is not None and mail.subject == "1 overdue, 1 due soon: services to check"
    assert mail.body.index("Old: Details not checked since 3 March 2026") < mail.body.index("Soon: due by 10 December")


def test_a_change_mail_lists_at_most_twenty_changes_and_says_how_many_more() -> None:
    lines = [f"Question {i}: a, now b" for i in range(25)]
    mail = change_mail("e@example.org", "Sam", "Hull line", "hull-line", 7, "key:x", lines, "https://x")
    assert "- Question 19" in mail.body and "- Question 20" not in mail.body and "and 5 more" in mail.body


def test_a_note_over_the_limit_or_with_a_control_character_is_refused_not_cut() -> None:
    assert note_problems("x" * 500) == [] and note_problems("line one\r\nline two\ttab") == []
    assert "501" in note_problems("x" * 501)[0].reason
    assert note_problems("bell\x07")[0].field == "note"


def test_the_audit_reads_in_words_with_its_coded_reason() -> None:
    assert audit_words("proposal.rejected", {"reason": "not_enough_evidence"}) == (
        "Proposed change rejected: We could not confirm it"
    )
    assert audit_words("proposal.approved", {"version": 4}) == "Proposed change approved (version 4)"
