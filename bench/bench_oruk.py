"""Open Referral UK page benchmark: the work of GET /openreferral/services for a page of 50 (one-to-one records and
fully nested), at 2,000 and 50,000 synthetic services over the real 43 force areas and 318 districts, in-process
(the handler's own steps: the listing, the filters, the remembered records, the envelope; no HTTP).

Run with `make bench-oruk`. Needs ../shared/geodata, and DATABASE_URL's server (or an embedded one) only for the
migrations' taxonomies. Prints the figures and writes them into bench/RESULTS.md between the oruk-bench markers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import platform
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import _drop, _vocab_and_fill, load_geography, measured_commit, replace_block, synthetic

from service.domain.model import Service
from service.http.oruk_query import Filters as _Filters
from service.index.engine import DirectoryIndex, IndexConfig
from service.index.published import Published, page_json

SIZES = (2_000, 50_000)
PAGES = 200
PER_PAGE = 50


def _ms(f: Callable[[], Any]) -> float:
    start = time.perf_counter()
    f()
    return (time.perf_counter() - start) * 1000


def measure(n: int, vocab: Any, areas: Any, outcodes: Any) -> dict[str, Any]:
    needs = [t.code for t in vocab.needs.terms]
    circs = [t.code for t in vocab.circumstances.terms]
    now = dt.datetime.now(dt.UTC).isoformat()
    services = [
        msgspec.convert(
            {**s, "id": f"00000000-0000-4000-8000-{i:012d}", "version": 1, "created_at": now, "updated_at": now},
            Service,
        )
        for i, s in enumerate(synthetic(n, outcodes, needs, circs, seed=n))
    ]
    index = DirectoryIndex.build(
        services=services,
        areas=areas,
        sites=[],
        postcodes={},
        vocab=vocab,
        version=1,
        config=IndexConfig(),
        now=dt.datetime.now(dt.UTC),
    )
    published = Published(vocab)
    rnd = random.Random(n)
    pages = (n + PER_PAGE - 1) // PER_PAGE

    def page(number: int, full: bool, term: str | None = None) -> bytes:
        listing = published.listing(index)
        wanted = _Filters(published, listing, None, term, None, None, None, None, None, None, None, None)
        chosen = [s for s in listing.services if wanted(s)] if term else list(listing.services)
        shown = chosen[(number - 1) * PER_PAGE : number * PER_PAGE]
        items = [published.full(s, listing, "public") if full else published.listed(s, listing) for s in shown]
        return page_json(items, len(chosen), number, PER_PAGE)

    listing_ms = _ms(lambda: published.listing(index))
    first = _ms(lambda: page(1, False))
    numbers = [rnd.randint(1, pages) for _ in range(PAGES)]

    def pages_ms(full: bool) -> list[float]:
        return [_ms(lambda: page(k, full)) for k in numbers]  # noqa: B023 (called at once, in the loop)

    cold = pages_ms(False)
    warm = pages_ms(False)  # the same pages again: records remembered
    full_cold = pages_ms(True)
    full_warm = pages_ms(True)
    size = len(page(numbers[0], True))
    mental_health = published.terms["ld-pathways-needs"]["mental_health"].id
    term_first = _ms(lambda: page(1, False, mental_health))
    term_warm = statistics.median(_ms(lambda: page(1, False, mental_health)) for _ in range(20))
    return {
        "services": n,
        "listing_ms": listing_ms,
        "first_page_ms": first,
        "list_cold_ms": statistics.median(cold),
        "list_warm_ms": statistics.median(warm),
        "full_cold_ms": statistics.median(full_cold),
        "full_warm_ms": statistics.median(full_warm),
        "full_page_kb": size / 1024,
        "term_first_ms": term_first,
        "term_warm_ms": term_warm,
    }


def write(rows: list[dict[str, Any]]) -> None:
    lines = [
        "<!-- oruk-bench:start -->",
        f"Measured {dt.date.today().isoformat()} on {measured_commit()}, {platform.machine()}, "
        f"Python {platform.python_version()}; synthetic services over the real 43 force areas and 318 districts; "
        f"pages of {PER_PAGE}, medians of {PAGES} random pages (`make bench-oruk`).",
        "",
        "| services | listing worked out (once per directory version) | first page | page, records new | "
        "page, records remembered | full page, new | full page, remembered | full page size | "
        "filtered by a need: first / then |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['services']:,} | {r['listing_ms']:.1f} ms | {r['first_page_ms']:.2f} ms | "
            f"{r['list_cold_ms']:.2f} ms | {r['list_warm_ms']:.3f} ms | {r['full_cold_ms']:.1f} ms | "
            f"{r['full_warm_ms']:.3f} ms | {r['full_page_kb']:.0f} KB | "
            f"{r['term_first_ms']:.0f} ms / {r['term_warm_ms']:.1f} ms |"
        )
    lines.append("<!-- oruk-bench:end -->")
    replace_block("oruk-bench", lines)
    print("\n".join(lines))


def main() -> int:
    import os

    admin = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    areas, outcodes, _ = load_geography()
    name = f"pathways_bench_{secrets.token_hex(4)}"
    vocab, _, _ = asyncio.run(_vocab_and_fill(admin, name, outcodes))
    try:
        rows = [measure(n, vocab, areas, outcodes) for n in SIZES]
    finally:
        asyncio.run(_drop(admin, name))
    write(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
