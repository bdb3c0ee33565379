"""Restaurants upload their daily records and attachments; readers see public summaries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import PrincipalDep, directory
from api.deps import PlatformDep, SessionDep, follow_up_after_commit
from api.pagination import PageDep, paged
from traceability.attachments import MAX_ATTACHMENT_BYTES, AttachmentStore
from traceability.errors import Forbidden, Invalid
from traceability.messages import message
from traceability.orgs.registry import can_read
from traceability.records import LoggedRecord, RecordBook, import_csv, layout
from traceability.records.csv_columns import DATES_NOTE, columns
from traceability.records.csv_import import MAX_CSV_BYTES

router = APIRouter(prefix="/v1", tags=["restaurants"])

attachments = AttachmentStore()
PremisesId = Annotated[str, Path(min_length=1, max_length=64)]
CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/octet-stream", "")


def body_limited_to(limit: int) -> Callable[[Request], Awaitable[bytes]]:
    """A dependency reading the raw body, refusing it as soon as it passes ``limit`` bytes."""

    async def read(request: Request) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Invalid(message("record.body_too_large", size=int(declared), max=limit))
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Invalid(message("record.body_over_limit", max=limit))
            chunks.append(chunk)
        return b"".join(chunks)

    return read


class RecordSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_type: str = Field(max_length=40)
    record: dict[str, Any]


def _book(platform: PlatformDep) -> RecordBook:
    return RecordBook(platform.log, attachments=attachments)


def _logged(entry: LoggedRecord) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "event_id": entry.event_id,
        "leaf_index": entry.leaf_index,
        "leaf_hash": entry.leaf_hash,
        "proof": f"/v1/proofs/{entry.event_id}",
        "record_type": entry.record_type,
        "record_date": entry.record_date.isoformat(),
        "alerts_opened": entry.alerts_opened,
    }
    if entry.receipt_event_id is not None:
        answer["ingredient_receipt"] = {
            "event_id": entry.receipt_event_id,
            "leaf_index": entry.receipt_leaf_index,
            "proof": f"/v1/proofs/{entry.receipt_event_id}",
        }
    return answer


@router.post("/premises/{premises_id}/records", status_code=201)
def post_record(
    premises_id: PremisesId,
    submission: RecordSubmission,
    principal: PrincipalDep,
    platform: PlatformDep,
    session: SessionDep,
) -> dict[str, Any]:
    """One record of the premises' own restaurant (others: 403). Names of staff and of the
    person keeping the record are logged only as salted commitments."""
    premises = directory.writable_premises(session, principal, premises_id)
    entry = _book(platform).submit(
        session,
        premises,
        submission.record_type,
        submission.record,
        actor=principal.actor,
        now=datetime.now(UTC),
    )
    follow_up_after_commit(platform, session, alerts=bool(entry.alerts_opened))
    return _logged(entry)


@router.post("/premises/{premises_id}/records/csv", status_code=201)
def post_records_csv(
    premises_id: PremisesId,
    record_type: Annotated[str, Query(max_length=40)],
    request: Request,
    body: Annotated[bytes, Depends(body_limited_to(MAX_CSV_BYTES))],
    principal: PrincipalDep,
    platform: PlatformDep,
    session: SessionDep,
) -> dict[str, Any]:
    """A UTF-8 CSV file of one record type, with the header of
    ``/v1/records/csv-templates/{record_type}``. Any bad row rejects the whole file (422,
    ``rows``: row, column, reason for each problem) and nothing is stored."""
    premises = directory.writable_premises(session, principal, premises_id)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in CSV_TYPES:
        raise Invalid(message("csv.content_type", content_type=content_type[:80]))
    logged = import_csv(
        _book(platform),
        session,
        premises,
        record_type,
        body,
        actor=principal.actor,
        now=datetime.now(UTC),
    )
    follow_up_after_commit(platform, session, alerts=any(entry.alerts_opened for entry in logged))
    return {
        "accepted": len(logged),
        "records": [_logged(entry) for entry in logged],
        "alerts_opened": [a for entry in logged for a in entry.alerts_opened],
    }


@router.get("/premises/{premises_id}/records")
def list_records(
    premises_id: PremisesId,
    principal: PrincipalDep,
    platform: PlatformDep,
    session: SessionDep,
    page: PageDep,
    record_type: Annotated[str | None, Query(max_length=40)] = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Public summaries of a premises' records (counts and facts, never names), newest
    day first: its own restaurant, regulators of its district, auditors and admins."""
    directory.readable_premises(session, principal, premises_id)
    items = _book(platform).page(
        session,
        premises_id,
        record_type=record_type,
        date_from=date_from,
        date_to=date_to,
        offset=page.offset,
        limit=page.fetch,
    )
    for item in items:
        item["proof"] = f"/v1/proofs/{item['event_id']}"
    return paged(items, page)


@router.post("/premises/{premises_id}/attachments", status_code=201)
def post_attachment(
    premises_id: PremisesId,
    request: Request,
    body: Annotated[bytes, Depends(body_limited_to(MAX_ATTACHMENT_BYTES))],
    principal: PrincipalDep,
    session: SessionDep,
) -> dict[str, Any]:
    """The raw bytes of a JPEG, PNG or WebP image or a PDF (at most 10 MiB), with its
    Content-Type. The same bytes always get the same SHA-256; cite it in records."""
    premises = directory.writable_premises(session, principal, premises_id)
    stored = attachments.store(
        session,
        premises_id=premises.premises_id,
        data=body,
        declared_type=request.headers.get("content-type"),
        uploaded_by=principal.actor[:64],
        now=datetime.now(UTC),
    )
    return {
        "sha256": stored.sha256,
        "media_type": stored.media_type,
        "size": stored.size,
        "created": stored.created,
        "url": f"/v1/attachments/{stored.sha256}",
    }


@router.get("/attachments/{sha256}", response_class=Response)
def get_attachment(
    sha256: Annotated[str, Path(min_length=64, max_length=64)],
    principal: PrincipalDep,
    session: SessionDep,
) -> Response:
    """The bytes, to a restaurant that uploaded them, regulators of such a restaurant's
    district, auditors and admins."""
    row = attachments.get(session, sha256)
    holders = [directory.premises(session, pid) for pid in attachments.holders(session, sha256)]
    if not any(can_read(principal, premises) for premises in holders):
        raise Forbidden(
            message("attachment.read_forbidden", org_id=principal.org_id, sha256=sha256)
        )
    return Response(
        content=bytes(row.data),
        media_type=row.media_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
            "Cache-Control": "private, max-age=31536000, immutable",
        },
    )


@router.get("/records/csv-templates/{record_type}", response_class=PlainTextResponse)
def csv_template(record_type: Annotated[str, Path(max_length=40)]) -> PlainTextResponse:
    """A record type's CSV upload: the header row and one example row to write over (an
    upload that still holds the example row unchanged is refused). Public; the columns are
    explained by ``.../legend`` and docs/records.md."""
    spec = layout(record_type)
    return PlainTextResponse(
        spec.header + "\r\n" + spec.example + "\r\n",
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{record_type}.csv"'},
    )


@router.get("/records/csv-templates/{record_type}/legend")
def csv_legend(record_type: Annotated[str, Path(max_length=40)]) -> dict[str, Any]:
    """What each column of the record type's CSV holds: kind, whether it is required, the
    allowed values, the date format, and the template's example value."""
    spec = layout(record_type)
    return {
        "record_type": record_type,
        "header": spec.header,
        "example": spec.example,
        "columns": [c.as_json() for c in columns(record_type, spec.columns, spec.required)],
        "dates": DATES_NOTE,
    }
