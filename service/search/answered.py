"""Answers already made, for repeats of the same search within a second, and each answer's JSON, encoded once.

A search's answer depends on the request, the index (its identity and version: any write or rebuild changes one)
and the moment. So an answer is kept, by request, for the index it came from, until the current period (the whole
second, at 1) ends: a repeat within it is ranked as of up to a second earlier, never against an older directory.
Two copies of the JSON are kept as they are first asked for: the public's (no professionals-only
numbers) and a key holder's. PATHWAYS_ANSWER_CACHE_SECONDS=0 makes every search afresh.
"""

from __future__ import annotations

import time

import msgspec

from service.domain.answer import ReferralAnswer
from service.domain.audience import public_answer
from service.domain.request import ReferralRequest
from service.index.bounded import CacheStats
from service.index.engine import DirectoryIndex

_encoder = msgspec.json.Encoder()


class Answered:
    __slots__ = ("_json", "answer")

    def __init__(self, answer: ReferralAnswer) -> None:
        self.answer = answer
        self._json: dict[bool, bytes] = {}

    def encoded(self, public: bool) -> bytes:
        found = self._json.get(public)
        if found is None:
            found = self._json[public] = _encoder.encode(public_answer(self.answer) if public else self.answer)
        return found


ANSWER_BYTES = 4096
OPTION_BYTES = 3072
"""What a kept answer takes, at most, with both its JSON copies: a base and each option, step option, fallback or
listed exclusion (tests/index/test_cache_sizes.py measures it)."""


def answer_bytes(answer: ReferralAnswer) -> int:
    items = len(answer.options) + len(answer.fallbacks) + sum(len(s.options) + len(s.fallbacks) for s in answer.steps)
    items += len(answer.excluded or ()) + len(answer.near_misses or ())
    return ANSWER_BYTES + OPTION_BYTES * items


Slot = tuple[int, int, int]
"""A period of the answer cache: the whole second (at 1), the index's identity and its version."""


class AnswerCache:
    BUDGET = 4 << 20
    """Bytes of answers kept at once (each charged by answer_bytes, about 60 KB for an answer of ten options): the
    first few hundred answers of each second, enough for the repeats a busy replica sees in one (a page reloaded, a
    control room and a custody desk asking alike); distinct searches gain nothing from more."""

    def __init__(self, seconds: int, budget: int = BUDGET) -> None:
        self.seconds, self.budget = seconds, budget
        self._slot: Slot = (0, 0, 0)
        self._answers: dict[ReferralRequest, Answered] = {}
        self.bytes = self.hits = self.misses = self.evictions = 0

    def _for(self, index: DirectoryIndex) -> dict[ReferralRequest, Answered]:
        """The answers of this period (the current whole second, at 1) for this index, others dropped whole: memory
        is held for one period's searches at most."""
        slot = (int(time.monotonic()) // self.seconds, id(index), index.version)
        if slot != self._slot:
            self._slot, self._answers, self.bytes = slot, {}, 0
        return self._answers

    def lookup(self, index: DirectoryIndex, request: ReferralRequest) -> tuple[Answered | None, Slot]:
        """The answer kept for this request in this period, if any, and the period (for `keep`)."""
        if not self.seconds:
            return None, self._slot
        found = self._for(index).get(request)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found, self._slot

    def keep(self, index: DirectoryIndex, request: ReferralRequest, answer: ReferralAnswer, asked: Slot) -> Answered:
        """Keep an answer made for a search asked in period `asked`, unless that period has ended meanwhile (its
        repeats would be answered as of more than a period earlier)."""
        made = Answered(answer)
        if self.seconds:
            answers = self._for(index)
            if self._slot != asked:
                return made
            charge = answer_bytes(answer)
            if self.bytes + charge <= self.budget:  # the period's first answers are its most asked: no eviction
                answers[request] = made
                self.bytes += charge
            else:
                self.evictions += 1
        return made

    def stats(self) -> CacheStats:
        return CacheStats(
            "answers", self.bytes, self.budget, len(self._answers), self.hits, self.misses, self.evictions
        )
