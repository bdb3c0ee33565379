"""`sunledger vision analyze VIDEO --config camera.yaml --json`: one JSON object per line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.kitchen_vision import scenes
from traceability.entrypoints.cli.app import app


def test_analyze_json_prints_each_observation(tmp_path: Path) -> None:
    base = scenes.night()
    frames = [scenes.with_sensor_noise(base, i) for i in range(16)]
    frames += [
        scenes.blob(scenes.with_sensor_noise(base, 50 + i), 60 + 12 * i, 300) for i in range(20)
    ]
    frames += [scenes.covered_black(i) for i in range(16)]
    video = scenes.write_video(tmp_path / "night.avi", frames, fps=4)
    config = tmp_path / "camera.yaml"
    config.write_text(
        scenes.kitchen_yaml(
            'sample_fps: 2\nstart_time: "2026-11-25T02:00:00+08:00"\n'
            'opening_hours: ["10:00-22:00"]\nrules: [tamper, motion, pest]\n'
        )
    )
    result = CliRunner().invoke(
        app, ["vision", "analyze", str(video), "--config", str(config), "--json"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines, result.output
    for line in lines:
        assert {"frame", "time", "type", "confidence", "detector", "zone"} <= set(line)
        assert line["frame"] % 2 == 0  # 4 frames/s sampled at 2
        assert abs(line["time"] - line["frame"] / 4) < 1e-6
    motion = [x for x in lines if x["type"] == "motion"]
    assert motion and {x["zone"] for x in motion} == {"prep-1"}
    assert 16 <= min(x["frame"] for x in motion) <= 20
    violations = [x for x in lines if x["type"] == "violation"]
    rules = [x["detail"]["rule"] for x in violations]
    assert rules[0] == "pest_suspected" and "camera_covered" in rules
    assert len(violations[0]["detail"]["evidence_sha256"]) == 64
    covered = [x for x in lines if x["type"] == "camera_covered"]
    assert covered and min(x["frame"] for x in covered) >= 36 + 2 * 2  # third covered sample


def test_analyze_names_a_bad_configuration_key(tmp_path: Path) -> None:
    config = tmp_path / "camera.yaml"
    config.write_text(scenes.kitchen_yaml("sample_fps: -1\n"))
    video = scenes.write_video(tmp_path / "v.avi", [scenes.kitchen()] * 3)
    result = CliRunner().invoke(app, ["vision", "analyze", str(video), "--config", str(config)])
    assert result.exit_code == 2 and "sample_fps" in result.output
    result = CliRunner().invoke(app, ["vision", "analyze", str(tmp_path / "none.mp4")])
    assert result.exit_code == 2 and "no such file" in result.output
