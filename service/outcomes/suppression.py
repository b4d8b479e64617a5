"""Statistical disclosure control for every count the reports publish: outcome tables and their totals, repeat contact
and demand counters, in JSON, in CSV and on the page.

The rule: every count is rounded to a multiple of 5, up or down at random, with the chance of rounding up that makes
it right on average (a count of 13 is shown as 15 three times in five, as 10 twice); a count rounded to 0 or 5 is
not shown at all ([c] in CSV and on the page, null in JSON). Totals are worked out from the exact counts and rounded
on their own, so they need not add up; a share is worked out from rounded counts, and not at all where either is
concealed. So [c] stands for 0 to 9, and any number shown for a count within 4 of it.

Which way a count is rounded is random but fixed by the records counted: each record carries a random key that is
never shown (migration 0011), the keys of the records behind a count are added up (its cell key), and that decides.
The same records are rounded the same way in every table and every time they are asked for, so asking again, or for
the same count through another table, tells nothing new.

Where it comes from. Rounding to 5, small counts not shown, and totals rounded on their own are NHS England's rule
for Hospital Episode Statistics and the Emergency Care Data Set (NHS Digital, "Disclosure control methodology for HES
and ECDS", in use since September 2018, where it replaced secondary suppression). Rounding at random, up or down, with
the chances set so that a count is right on average, is how Statistics New Zealand has published census tables since
1981 (to base 3). Keys kept with each record and added up into a cell key, so that the same records are changed the
same way in any table, are the ONS's cell-key method, which protects Census 2021's tables and its "Create a custom
dataset" table builder against differencing.

Why not HES's rounding as it is (to the nearest 5: 8 to 12 all shown as 10). It protects a table, but this API
answers any analyst any table, and a count at the very edge of what its rounding allows (12 is the most a 10 can be)
joins with others into exact answers: with HES's rule in place, the attacker test's records give away a concealed 7
through four published counts, each at an edge (README, "Reports"). With random rounding a count is at an edge only
when it was rounded the far way (a 9 shown as 5), and no reader can tell when. For the same reason [c] may be 0:
where zero is shown, each [c] is known to be at least 1, and a total at its least then gives its parts away.

The attacker test (tests/outcomes/test_disclosure.py) gives every answer the API would give one analyst about a small,
awkward set of synthetic records to an integer program; no concealed count comes out as a single value.
"""

from __future__ import annotations

BASE = 5
"""Counts are shown as multiples of this."""
CONCEALED_UP_TO = 5
"""A count rounded to this or less is not shown."""
KEYS = 1_000_000
"""Report keys are whole numbers from 0 to KEYS - 1, drawn at random for each record (migration 0011)."""
RULE = (
    f"Counts are rounded at random to a multiple of {BASE}, the same way every time for the same records and right on "
    f"average, and not shown when that is 0 or 5 ([c] in CSV, null in JSON): [c] stands for 0 to 9, a number for a "
    "count within 4 of it."
)
TOTALS = "Totals are rounded from the exact counts on their own, so they may not add up."


def shown(count: int, key: int) -> int | None:
    """A count as published, `key` being the sum of its records' report keys: rounded to a multiple of 5, up with the
    chance that makes it right on average (the fraction past the multiple below), the cell key deciding; None when
    that is 0 or 5."""
    below = BASE * (count // BASE)
    rounded = below + BASE if (key % KEYS) * BASE < (count - below) * KEYS else below
    return None if rounded <= CONCEALED_UP_TO else rounded


def share(part: int | None, whole: int | None) -> float | None:
    """A share worked out from published counts only (so it says no more than they do), to three places; None when
    either is concealed."""
    if part is None or not whole:
        return None
    return round(part / whole, 3)
