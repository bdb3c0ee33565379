"""Hostile uploads the other suites do not cover: a CSV with a 1 MB cell, and files that are
not images sent as image/jpeg. Each is refused with a 4xx naming the problem; nothing is
stored. (Wrong encodings, formula injection and other non-images are covered in
tests/api/test_restaurants.py and tests/traceability/records/test_records.py; RELIABILITY.md.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from seeded_city import City
from sqlalchemy import func, select

from traceability.storage.models import AttachmentRow, EventRow, RecordRow

pytestmark = pytest.mark.reliability

SAMPLE_HEADER = "date,dish,meal,weight_g,time_in,removed_at,fridge,person"


def stored(city: City) -> tuple[int, int, int]:
    with city.app.state.platform.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(EventRow)) or 0,
            session.scalar(select(func.count()).select_from(RecordRow)) or 0,
            session.scalar(select(func.count()).select_from(AttachmentRow)) or 0,
        )


def post_csv(city: City, data: bytes) -> tuple[int, dict[str, object]]:
    answer = city.client.post(
        "/v1/premises/p-1/records/csv?record_type=sample_retention",
        content=data,
        headers={**city.headers("rest-1"), "Content-Type": "text/csv"},
    )
    return answer.status_code, answer.json()


@pytest.mark.parametrize("size", [1024 * 1024, 200 * 1024, 5_000])
def test_a_csv_with_a_huge_cell_is_refused_cleanly(city: City, size: int) -> None:
    day = datetime.now(UTC).date().isoformat()
    dish = "豆" * (size // 3)  # three UTF-8 bytes each
    row = f"{day},{dish},lunch,150,{day}T00:05,,fridge-1,Li"
    data = f"{SAMPLE_HEADER}\n{row}\n".encode()
    assert len(data) >= size
    before = stored(city)
    status, body = post_csv(city, data)
    assert status == 422, body
    assert body["error"] == "CsvRejected" and "nothing was stored" in str(body["detail"]), body
    # Over the CSV reader's field limit (131,072 characters) it says so; under it, the column.
    expected = "field larger than field limit" if len(dish) > 131_072 else "at most 200 characters"
    assert expected in str(body["detail"]), body
    assert stored(city) == before


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"MZ\x90\x00\x03" + bytes(200), "a Windows executable"),
        (b"<html><script>alert(1)</script></html>", "an HTML page"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "a JPEG header with nothing behind it"),
        (b"%PDF-1.4\n%%EOF\n", "a PDF declared as a JPEG"),
    ],
)
def test_a_non_image_sent_as_image_jpeg_is_refused(city: City, content: bytes, reason: str) -> None:
    before = stored(city)
    answer = city.client.post(
        "/v1/premises/p-1/attachments",
        content=content,
        headers={**city.headers("rest-1"), "Content-Type": "image/jpeg"},
    )
    assert answer.status_code == 422, (reason, answer.text)
    assert answer.json()["error"] == "Invalid", answer.text
    assert stored(city) == before
