"""Camera registry endpoints, the public record's camera counts, and public evidence."""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
from seeded_city import City

from traceability.cameras.registry import CameraRegistry
from traceability.storage.db import transaction

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

CONFIG = {
    "camera_id": "cam-7",
    "premises_id": "p-1",
    "source": "rtsp://viewer:s3cret@10.0.0.5/stream1",
    "opening_hours": ["10:00-22:00"],
    "zones": [{"name": "stove-1", "kind": "stove", "polygon": [[0.5, 0], [1, 0], [1, 1]]}],
}


def test_admin_registers_cameras_and_readers_list_them(city: City) -> None:
    admin = city.headers("admin")
    made = city.client.post(
        "/v1/admin/cameras", json={"name": "Hot line", "config": CONFIG}, headers=admin
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["camera_id"] == "cam-7" and body["name"] == "Hot line"
    assert body["online"] is False and body["last_frame_at"] is None
    assert body["config"]["zones"][0]["kind"] == "stove"
    assert body["config"]["source"] == "rtsp://viewer:***@10.0.0.5/stream1"  # no password out
    again = city.client.post("/v1/admin/cameras", json={"config": CONFIG}, headers=admin)
    assert again.status_code == 409 and again.json()["error"] == "Conflict"
    bad = city.client.post(
        "/v1/admin/cameras",
        json={"config": {**CONFIG, "camera_id": "cam-8", "sample_fps": 0}},
        headers=admin,
    )
    assert bad.status_code == 422 and "sample_fps" in bad.json()["detail"]
    nowhere = city.client.post(
        "/v1/admin/cameras",
        json={"config": {**CONFIG, "camera_id": "cam-9", "premises_id": "p-404"}},
        headers=admin,
    )
    assert nowhere.status_code == 404

    listed = city.client.get("/v1/admin/cameras", headers=admin).json()
    assert [c["camera_id"] for c in listed["items"]] == ["cam-7"]
    own = city.client.get("/v1/premises/p-1/cameras", headers=city.headers("rest-1"))
    assert [c["camera_id"] for c in own.json()["items"]] == ["cam-7"]
    other = city.client.get("/v1/premises/p-1/cameras", headers=city.headers("rest-2"))
    assert other.status_code == 403
    assert (
        city.client.get("/v1/premises/p-2/cameras", headers=city.headers("rest-2")).json()["items"]
        == []
    )


def test_the_public_record_counts_registered_and_online_cameras(city: City) -> None:
    platform = city.app.state.platform
    now = datetime.now(UTC)
    registry = CameraRegistry()
    with transaction(platform.sessions) as session:
        for camera_id in ("a", "b", "c"):
            registry.register(
                session, camera_id=camera_id, premises_id="p-1", name=camera_id, config={}, now=now
            )
        registry.frame_seen(session, "a", now)
    record = city.client.get("/v1/public/restaurants/p-1").json()
    assert record["live"]["cameras"] == {"registered": 3, "online": 1}
    other = city.client.get("/v1/public/restaurants/p-2").json()
    assert other["live"]["cameras"] == {"registered": 0, "online": 0}


def test_only_vision_evidence_is_public(city: City) -> None:
    ok, data = cv2.imencode(".png", np.full((8, 8, 3), 90, dtype=np.uint8))
    assert ok
    upload = city.client.post(
        "/v1/premises/p-1/attachments",
        content=data.tobytes(),
        headers={**city.headers("rest-1"), "Content-Type": "image/png"},
    )
    assert upload.status_code == 201
    sha = upload.json()["sha256"]
    answer = city.client.get(f"/v1/public/evidence/{sha}")
    assert answer.status_code == 404 and answer.json()["error"] == "NotFound"
    assert city.client.get("/v1/public/evidence/not-a-hash").status_code == 422
