"""Answers already made, for repeats of the same search within a second, and each answer's JSON, encoded once.

A search's answer depends on the request, the index (its identity and version: any write or rebuild changes one)
and the moment. So an answer is kept, by request, for the index it came from, and served again only while it is at
most `seconds` old: a repeat within the second is ranked as of up to a second earlier, never against an older
directory. Two copies of the JSON are kept as they are first asked for: the public's (no professionals-only
numbers) and a key holder's. PATHWAYS_ANSWER_CACHE_SECONDS=0 makes every search afresh.
"""

from __future__ import annotations

import time

import msgspec

from service.domain.answer import ReferralAnswer
from service.domain.audience import public_answer
from service.domain.routing import ReferralRequest
from service.index.engine import DirectoryIndex

_encoder = msgspec.json.Encoder()


class Answered:
    __slots__ = ("_json", "answer", "made")

    def __init__(self, answer: ReferralAnswer) -> None:
        self.answer = answer
        self.made = time.monotonic()
        self._json: dict[bool, bytes] = {}

    def encoded(self, public: bool) -> bytes:
        found = self._json.get(public)
        if found is None:
            found = self._json[public] = _encoder.encode(public_answer(self.answer) if public else self.answer)
        return found


class AnswerCache:
    LIMIT = 4096
    """Requests kept at once; beyond this, new answers are not kept until the oldest expire."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self._index: tuple[int, int] = (0, 0)
        self._answers: dict[ReferralRequest, Answered] = {}
        self.hits = 0

    def _for(self, index: DirectoryIndex) -> dict[ReferralRequest, Answered]:
        key = (id(index), index.version)
        if key != self._index:
            self._index, self._answers = key, {}
        return self._answers

    def lookup(self, index: DirectoryIndex, request: ReferralRequest) -> Answered | None:
        if not self.seconds:
            return None
        found = self._for(index).get(request)
        if found is None:
            return None
        if time.monotonic() - found.made > self.seconds:
            del self._answers[request]
            return None
        self.hits += 1
        return found

    def keep(self, index: DirectoryIndex, request: ReferralRequest, answer: ReferralAnswer) -> Answered:
        made = Answered(answer)
        if self.seconds:
            answers = self._for(index)
            if len(answers) >= self.LIMIT:
                self._expire(answers)
            if len(answers) < self.LIMIT:
                answers[request] = made
        return made

    def _expire(self, answers: dict[ReferralRequest, Answered]) -> None:
        oldest = time.monotonic() - self.seconds
        for request in [r for r, a in answers.items() if a.made < oldest]:
            del answers[request]
