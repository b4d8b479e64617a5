"""The versioned needs taxonomy and circumstances list."""

from __future__ import annotations

from service.domain.model import Taxonomies, Taxonomy, TaxonomyTerm
from service.store.db import Connection
from service.store.sql import sql


async def current_taxonomy(conn: Connection, name: str) -> Taxonomy:
    rows = await conn.fetch(sql("taxonomy_current"), name)
    return Taxonomy(
        name=name,
        version=rows[0]["version"] if rows else 0,
        published=rows[0]["published"] if rows else None,
        terms=tuple(
            TaxonomyTerm(code=r["code"], label=r["label"], definition=r["definition"], theme=r["theme"]) for r in rows
        ),
    )


async def current_taxonomies(conn: Connection) -> Taxonomies:
    return Taxonomies(
        needs=await current_taxonomy(conn, "needs"),
        circumstances=await current_taxonomy(conn, "circumstances"),
    )
