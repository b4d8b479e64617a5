"""The e-mails the directory sends its keepers, in words. Pure.

Mail goes only to the directory's own people (editors, admins, providers) at the address they gave, about the
services they keep. It never carries a problem report's note (which could, despite the form's warning, say something
about a person, and a mailbox keeps it for ever): it says there is one, and links to the queue, where it is deleted
with the report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from msgspec import Struct

from service.domain.review import Review, day_words


class Mail(Struct, frozen=True, kw_only=True):
    to: str
    subject: str
    body: str


SIGN_OFF = (
    "\n\nYou get this because you asked for e-mail about the services you keep. To stop, sign in and change it on "
    "{base}/account/notifications.\n\nld-pathways"
)


def _end(base: str) -> str:
    return SIGN_OFF.format(base=base.rstrip("/"))


def problem_report_mail(to: str, name: str, service_name: str, reason_text: str, has_note: bool, base: str) -> Mail:
    """A problem report has arrived about a service this person keeps."""
    note = " It has a note: read it on the reports page." if has_note else ""
    body = (
        f"Hello {name},\n\nSomeone reported a problem with {service_name}: {reason_text}.{note}\n\n"
        f"Check the listing and close the report: {base.rstrip('/')}/account/problem-reports" + _end(base)
    )
    return Mail(to=to, subject=f"Problem reported: {service_name}", body=body)


def reports_mail(to: str, name: str, reports: Sequence[tuple[str, str, bool]], base: str) -> Mail:
    """The problem reports that arrived since the last mail, about services this person keeps, as one message:
    (service, reason in words, whether it has a note) each."""
    if len(reports) == 1:
        service_name, reason_text, has_note = reports[0]
        return problem_report_mail(to, name, service_name, reason_text, has_note, base)
    lines = "\n".join(
        f"- {service}: {reason}.{' It has a note.' if noted else ''}" for service, reason, noted in reports[:50]
    )
    more = f"\n- and {len(reports) - 50} more" if len(reports) > 50 else ""
    body = (
        f"Hello {name},\n\n{len(reports)} problems were reported with services you keep:\n{lines}{more}\n\n"
        f"Check the listings and close the reports: {base.rstrip('/')}/account/problem-reports" + _end(base)
    )
    return Mail(to=to, subject=f"{len(reports)} problems reported with services you keep", body=body)


def change_mail(
    to: str, name: str, service_name: str, slug: str, version: int, actor: str, changed: Sequence[str], base: str
) -> Mail:
    """A service this person watches has changed."""
    lines = "\n".join(f"- {line}" for line in changed[:20]) or "- (no field changed)"
    more = f"\n- and {len(changed) - 20} more" if len(changed) > 20 else ""
    body = (
        f"Hello {name},\n\n{service_name} changed (version {version}, by {actor}):\n{lines}{more}\n\n"
        f"See it: {base.rstrip('/')}/account/services/{slug}" + _end(base)
    )
    return Mail(to=to, subject=f"Changed: {service_name}", body=body)


def digest_mail(to: str, name: str, due: Sequence[tuple[str, str, Review]], today: dt.date, base: str) -> Mail | None:
    """The day's digest of the services this person keeps that are overdue for review or due within 14 days; none
    when there are none."""
    if not due:
        return None
    overdue = [d for d in due if d[2].overdue]
    soon = [d for d in due if not d[2].overdue]
    root = base.rstrip("/")
    parts = [f"Hello {name},\n\nServices you keep that need checking, as of {day_words(today)}:"]
    if overdue:
        parts.append(f"\nOverdue ({len(overdue)}): searches flag these as possibly out of date until checked.")
        parts += [f"- {title}: {review.text}. {root}/account/services/{slug}" for title, slug, review in overdue]
    if soon:
        parts.append(f"\nDue within 14 days ({len(soon)}):")
        parts += [
            f"- {title}: due by {day_words(review.due)}. {root}/account/services/{slug}"
            for title, slug, review in soon
            if review.due is not None
        ]
    subject = f"{len(overdue)} overdue, {len(soon)} due soon: services to check"
    return Mail(to=to, subject=subject, body="\n".join(parts) + _end(base))
