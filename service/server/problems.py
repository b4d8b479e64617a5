"""RFC 9457 problem details, and the one map from errors to statuses."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import ParameterKwarg
from litestar.types import ExceptionHandlersMap

from service.domain.access import Forbidden, ForbiddenRecords, TooManyAttempts, Unauthorised
from service.domain.decoding import field_problem, join_path
from service.domain.errors import (
    Conflict,
    FieldProblem,
    ImportRejected,
    InvalidInput,
    MalformedInput,
    NotFound,
    PreconditionFailed,
    RecordProblem,
    Unavailable,
)
from service.server.runtime import runtime_of
from service.store.db import unavailable

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("service.http")


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """application/problem+json (RFC 9457). `field` is the first offending field; `errors` lists them all."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    errors: tuple[FieldProblem, ...] = ()
    records: tuple[RecordProblem, ...] = ()


def problem(
    request: Request[Any, Any, Any],
    status: int,
    kind: str,
    title: str,
    detail: str,
    *,
    errors: tuple[FieldProblem, ...] = (),
    records: tuple[RecordProblem, ...] = (),
    headers: dict[str, str] | None = None,
    echo_path: bool = True,
) -> Response[Problem]:
    first = errors[0].field if errors else (records[0].field if records else None)
    body = Problem(
        type=f"urn:ld-pathways:problem:{kind}",
        title=title,
        status=status,
        detail=detail,
        instance=safe_path(request) if echo_path else None,
        field=first,
        errors=errors,
        records=records,
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def safe_path(request: Request[Any, Any, Any]) -> str:
    """The request path percent-encoded: never a raw control character in a problem or a log line."""
    return quote(request.scope.get("path", ""), safe="/:@!$&'()*+,;=-._~")


def _invalid(request: Request[Any, Any, Any], exc: InvalidInput) -> Response[Problem]:
    return problem(request, 422, "invalid-input", "Invalid input", str(exc), errors=exc.problems)


def _malformed(request: Request[Any, Any, Any], exc: MalformedInput) -> Response[Problem]:
    return problem(request, 400, "invalid-request", "Bad request", str(exc), errors=exc.problems)


def _unauthorised(request: Request[Any, Any, Any], exc: Unauthorised) -> Response[Problem]:
    return problem(
        request,
        401,
        "unauthorised",
        "Unauthorised",
        str(exc),
        errors=(FieldProblem(field="Authorization", reason=str(exc)),),
        headers={"WWW-Authenticate": 'Bearer realm="ld-pathways"'},
    )


def _forbidden(request: Request[Any, Any, Any], exc: Forbidden) -> Response[Problem]:
    records = exc.problems if isinstance(exc, ForbiddenRecords) else ()
    errors = (FieldProblem(field="Authorization", reason=str(exc)),)
    return problem(request, 403, "forbidden", "Forbidden", str(exc), errors=errors, records=records)


def _too_many(request: Request[Any, Any, Any], exc: TooManyAttempts) -> Response[Problem]:
    errors = (FieldProblem(field="Authorization", reason=str(exc)),)
    headers = {"Retry-After": str(exc.retry_after)}
    return problem(request, 429, "too-many-attempts", "Too many requests", str(exc), errors=errors, headers=headers)


def _not_found(request: Request[Any, Any, Any], exc: NotFound) -> Response[Problem]:
    return problem(request, 404, "not-found", "Not found", str(exc))


def _conflict(request: Request[Any, Any, Any], exc: Conflict) -> Response[Problem]:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    errors = (FieldProblem(field=exc.field, reason=exc.reason),)
    return problem(request, 409, "conflict", "Conflict", str(exc), errors=errors, headers=headers)


def _precondition(request: Request[Any, Any, Any], exc: PreconditionFailed) -> Response[Problem]:
    return problem(
        request,
        412,
        "stale-version",
        "Precondition failed",
        f"{exc}; fetch it again and retry with its ETag",
        errors=(FieldProblem(field="If-Match", reason="does not match the current version"),),
        headers={"ETag": exc.current_etag},
    )


def _rejected(request: Request[Any, Any, Any], exc: ImportRejected) -> Response[Problem]:
    status = 400 if exc.malformed else 422
    return problem(request, status, "import-rejected", "Import rejected", str(exc), records=exc.problems)


_MISSING = re.compile(r"Missing required \w+ parameter '(?P<name>[^']+)'")


def parameter_name(request: Request[Any, Any, Any], key: str) -> str:
    """A parameter as the client wrote it (`from`, `_count`, `If-Match`): litestar's errors name the handler's
    Python argument (`from_`, `count`, `if_match`), which the parameter's declaration renames."""
    signature = getattr(request.scope.get("route_handler"), "parsed_fn_signature", None)
    declared = signature.parameters.get(key) if signature is not None else None
    kwarg = declared.kwarg_definition if declared is not None else None
    if isinstance(kwarg, ParameterKwarg):
        return kwarg.name or key
    return key


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    """Litestar's decode errors: wrong types, unknown fields, bad or missing parameters, each named as the client
    wrote it.

    The detail is rebuilt from the errors: litestar's own names the full URL, whose query string may carry
    search inputs (age, needs), and those are never echoed or logged.
    """
    errors: list[FieldProblem] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        source = str(item.get("source") or "")
        key = str(item.get("key") or "")
        key = key if source == "body" else parameter_name(request, key)
        prefix = "" if key in ("", "data") and source == "body" else key
        found = field_problem(str(item.get("message", "invalid value")), prefix)
        errors.append(FieldProblem(field=join_path(found.field) or "body", reason=found.reason))
    if not errors:
        missing = _MISSING.search(exc.detail or "")
        if missing:
            errors.append(FieldProblem(field=missing.group("name"), reason="required"))
        else:
            errors.append(FieldProblem(field="body", reason="invalid request"))
    detail = "; ".join(f"{e.field}: {e.reason}" for e in errors)
    return problem(request, 400, "invalid-request", "Bad request", detail, errors=tuple(errors))


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    errors: tuple[FieldProblem, ...] = ()
    if status == 413:
        errors = (FieldProblem(field="body", reason="request body is larger than the limit"),)
    elif status == 400:
        errors = (FieldProblem(field="body", reason=exc.detail),)
    headers = {k: str(v) for k, v in (exc.headers or {}).items()}
    if status == 429:  # litestar's rate limiter sends RateLimit-Reset (seconds); clients expect Retry-After
        headers.setdefault("Retry-After", headers.get("RateLimit-Reset", "60"))
        errors = (FieldProblem(field="Authorization", reason="rate limit exceeded for this key or address"),)
    # A path that matched no route is not echoed back.
    return problem(
        request, status, "http", exc.detail, exc.detail, errors=errors, headers=headers or None, echo_path=status != 404
    )


def _unavailable(request: Request[Any, Any, Any], exc: Unavailable) -> Response[Problem]:
    outage = runtime_of(request.app.state).outage
    outage.failed(exc)
    return problem(
        request,
        503,
        "unavailable",
        "Service unavailable",
        f"{exc}; nothing was written",
        errors=(FieldProblem(field="database", reason=str(exc)),),
        headers={"Retry-After": str(exc.retry_after)},
    )


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """Driver and network failures become their domain errors here (the store decides which); anything else is a
    bug, logged with its traceback once per distinct place it happens, not once per request."""
    found = unavailable(exc)
    if isinstance(found, Unavailable):
        runtime_of(request.app.state).outage.lost_connection(exc)
        return _unavailable(request, found)
    if isinstance(found, Conflict):
        return _conflict(request, found)
    if isinstance(found, MalformedInput):
        return _malformed(request, _named_from_request(request, found))
    outage = runtime_of(request.app.state).outage
    outage.bug(exc, f"{request.method} {safe_path(request)}")
    return problem(request, 500, "internal", "Internal server error", "an unexpected error; it has been logged")


def _unstorable(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode()
    except UnicodeError:
        return True
    return "\x00" in value


def _named_from_request(request: Request[Any, Any, Any], exc: MalformedInput) -> MalformedInput:
    """A value the database could not hold, named as the path or query parameter that holds it when one does (the
    driver cannot say which value it was); otherwise it came in the body, as the store said."""
    params = [*request.path_params.items(), *request.query_params.multi_items()]
    named = tuple(FieldProblem(field=name, reason=exc.problems[0].reason) for name, v in params if _unstorable(v))
    return MalformedInput(named[:1]) if named else exc


ERROR_MAP: ExceptionHandlersMap = {
    InvalidInput: _invalid,
    MalformedInput: _malformed,
    Unauthorised: _unauthorised,
    Forbidden: _forbidden,
    TooManyAttempts: _too_many,
    NotFound: _not_found,
    Conflict: _conflict,
    PreconditionFailed: _precondition,
    ImportRejected: _rejected,
    Unavailable: _unavailable,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _internal,
}

_DESCRIPTIONS = {
    400: "Malformed JSON, a wrong type or an unknown field; `field` names it",
    401: "No credentials, or an unknown, revoked or invalid key or token",
    403: "The key or token does not allow this (role, area scope or linked services)",
    429: "Too many requests; Retry-After says when to try again",
    404: "Not found",
    409: "Conflict, e.g. a duplicate slug",
    412: "If-Match does not match the current version; nothing was written",
    413: "Request body over the size limit",
    422: "Invalid input; `field` and `errors` name each problem, `records` each bad import record",
    503: "The database is unavailable (or, for readiness, not ready); Retry-After says when to try again",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """Problem responses for these statuses, plus those any operation can meet: 400 (a bad parameter or header),
    401 (reads may need a key), 429 (rate limits) and 503 (the database is unavailable)."""
    statuses = tuple(sorted({*statuses, 400, 401, 429, 503}))
    return {
        s: ResponseSpec(
            data_container=Problem, description=_DESCRIPTIONS[s], media_type=PROBLEM_JSON, generate_examples=False
        )
        for s in statuses
    }
