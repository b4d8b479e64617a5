"""The pages' query parameters, with limits as the API's have: a value no form could send (a NUL byte, a control
character, thousands of characters) is refused with a 400 naming it, before a page is drawn."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

from service.domain.types import SINGLE_LINE
from service.search.entry import CodesText

Text = Annotated[str | None, QueryParameter(max_length=200, pattern=SINGLE_LINE)]
Codes = Annotated[list[CodesText] | None, QueryParameter()]
When = Annotated[str | None, QueryParameter(pattern=r"^(detention|release)$")]
"""Whether the moment asked about is while the person is held or at release (the form's two choices)."""
PublicOnly = Annotated[str | None, QueryParameter(pattern=r"^(true|false)$")]
"""The public mode asked for by a page or an embed (`public_only=true`; the embed script's `data-audience="public"`)."""
