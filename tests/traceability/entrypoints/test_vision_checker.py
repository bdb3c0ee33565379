"""The vision checker wired to the platform: an uploaded clip (the worker's task) is
analysed with the camera's registered configuration and logged through the ledger; its
frames are counted but do not make the camera online."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from seeded_city import City
from sqlalchemy import select

from kitchen_vision.config import parse_config
from tests.kitchen_vision import scenes
from traceability.cameras.registry import CameraRegistry, camera_json
from traceability.entrypoints.vision_checker import analyze_uploaded_clip, demo_vision
from traceability.errors import Invalid
from traceability.storage.db import transaction
from traceability.storage.models import AlertRow, EventRow


def test_an_uploaded_clip_is_logged_without_making_the_camera_online(
    city: City, tmp_path: Path
) -> None:
    platform = city.app.state.platform
    now = datetime.now(UTC).replace(microsecond=0)
    start = (now - timedelta(hours=2)).replace(minute=0, second=0)
    config = parse_config(
        yaml.safe_load(
            scenes.kitchen_yaml(
                'sample_fps: 2\ntimezone: UTC\nopening_hours: ["00:00-00:01"]\n'
                "rules: [tamper, motion, pest]\n"
            )
        )
    )
    with transaction(platform.sessions) as session:
        CameraRegistry().register(
            session,
            camera_id="cam-1",
            premises_id="p-1",
            name="Kitchen",
            config=config.to_json(),
            now=now,
        )
    base = scenes.night()
    frames = [scenes.with_sensor_noise(base, i) for i in range(16)]
    frames += [
        scenes.blob(scenes.with_sensor_noise(base, 50 + i), 60 + 12 * i, 300) for i in range(20)
    ]
    clip = scenes.write_video(tmp_path / "upload.avi", frames, fps=4)

    outcome = analyze_uploaded_clip(platform.sessions, platform.log, "cam-1", clip, start)

    assert outcome["camera_id"] == "cam-1" and outcome["frames"] == 18
    assert len(outcome["alerts_opened"]) == 1
    with platform.sessions() as session:
        alert = session.get(AlertRow, outcome["alerts_opened"][0])
        assert alert is not None and (alert.rule, alert.source) == ("pest_suspected", "vision")
        shown = camera_json(CameraRegistry().get(session, "cam-1"), now)
        bodies = [json.loads(bytes(r.body)) for r in session.execute(select(EventRow)).scalars()]
    assert shown["frames_analysed"] == 18 and shown["last_frame_at"] is None
    # The clip's first frame was taken at ``start``: the violation's times follow it.
    (violation,) = [b for b in bodies if b["kind"] == "violation"]
    started = datetime.fromisoformat(violation["payload"]["started_at"])
    assert start <= started <= start + timedelta(seconds=9)
    record = city.client.get("/v1/public/restaurants/p-1").json()
    assert record["live"]["cameras"] == {"registered": 1, "online": 0}


def test_the_demo_gets_the_checker_which_checks_camera_configurations() -> None:
    vision = demo_vision()
    raw = yaml.safe_load(scenes.kitchen_yaml("rules: [tamper, motion]\n"))
    checked = vision.camera_config(raw)  # type: ignore[union-attr]
    assert checked == parse_config(raw).to_json()
    assert checked["camera_id"] == "cam-1" and sorted(checked["rules"]) == ["motion", "tamper"]
    with pytest.raises(Invalid, match="sample_fps"):
        vision.camera_config({**raw, "sample_fps": -1})  # type: ignore[union-attr]
