"""The pluggable YOLO detector, run on small ONNX models built here and loaded by cv2.dnn.

Each model's output is a constant table of candidate boxes whose confidence column is
multiplied by the mean brightness of the network input, so the frame really goes
through the letterbox, ``blobFromImage`` and the network: a black frame yields nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from kitchen_vision.config import CameraConfig, ObservationRule, Zone
from kitchen_vision.observations import Box, FrameContext
from kitchen_vision.rules import RuleBook
from kitchen_vision.yolo import (
    NO_ACCURACY_CLAIM,
    YoloDetector,
    YoloModel,
    letterbox,
    load_yolo_detector,
)

CLASSES = ("person", "no_hat", "rat")
INPUT = (64, 64)


def build_model(path: Path, rows: list[list[float]], gain_column: int, *, v8: bool) -> Path:
    """An ONNX graph: output = table + mean(input) × gain, with gain 1 in one column."""
    table = np.asarray([rows], dtype=np.float32)  # (1, N, K)
    gain = np.zeros_like(table)
    gain[0, :, gain_column] = 1.0
    if v8:  # (1, 4 + C, N)
        table, gain = table.transpose(0, 2, 1).copy(), gain.transpose(0, 2, 1).copy()
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=1),
        helper.make_node("Reshape", ["mean", "shape"], ["mean3"]),
        helper.make_node("Mul", ["mean3", "gain"], ["scaled"]),
        helper.make_node("Add", ["scaled", "table"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, INPUT[1], INPUT[0]])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(table.shape))],
        [
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(gain, "gain"),
            numpy_helper.from_array(np.array([1, 1, 1], np.int64), "shape"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return path


# Candidates in input pixels (64×64): cx, cy, w, h, then per layout objectness and scores.
# Two overlapping no_hat boxes (0.9 and 0.8), a person overlapping them (other class,
# survives class-wise NMS), a rat at 0.1 (below the threshold), a far-away no_hat.
V5_ROWS = [
    [32, 32, 16, 16, 0.0, 0.0, 0.9, 0.0],
    [33, 33, 16, 16, 0.0, 0.0, 0.8, 0.0],
    [32, 32, 18, 18, 0.0, 0.7, 0.0, 0.0],
    [10, 50, 6, 6, 0.0, 0.0, 0.0, 0.1],
    [52, 20, 8, 8, 0.0, 0.0, 0.6, 0.0],
]
# The same boxes without objectness: the brightness scales the class score instead.
V8_ROWS = [[r[0], r[1], r[2], r[3], *r[5:]] for r in V5_ROWS]


def white_frame(width: int = 128, height: int = 64) -> np.ndarray:
    return np.full((height, width, 3), 255, dtype=np.uint8)


@pytest.fixture(params=["v5", "v8"])
def model(request: pytest.FixtureRequest, tmp_path: Path) -> YoloModel:
    if request.param == "v5":
        # (1, N, 5 + C): the objectness column carries the brightness; scores are constant.
        path = build_model(tmp_path / "tiny_v5.onnx", V5_ROWS, 4, v8=False)
    else:
        # (1, 4 + C, N): every class score is multiplied by the brightness.
        path = _v8_scaled(tmp_path / "tiny_v8.onnx")
    return YoloModel(path, CLASSES, input_size=INPUT, confidence_threshold=0.25)


def _v8_scaled(path: Path) -> Path:
    """v8 layout where every class score is multiplied by the input's mean brightness."""
    table = np.asarray([V8_ROWS], dtype=np.float32).transpose(0, 2, 1).copy()  # (1, 7, N)
    boxes, scores = table[:, :4, :], table[:, 4:, :]
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=1),
        helper.make_node("Reshape", ["mean", "shape"], ["mean3"]),
        helper.make_node("Mul", ["mean3", "scores"], ["scaled"]),
        helper.make_node("Concat", ["boxes", "scaled"], ["output0"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_yolo_v8",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, INPUT[1], INPUT[0]])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(table.shape))],
        [
            numpy_helper.from_array(boxes, "boxes"),
            numpy_helper.from_array(scores, "scores"),
            numpy_helper.from_array(np.array([1, 1, 1], np.int64), "shape"),
        ],
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    path.write_bytes(onnx_model.SerializeToString())
    return path


def brightness(frame_value: int) -> float:
    """Mean of the 64×64 network input for a 128×64 frame of one value: half frame, half
    grey 114 padding."""
    return (frame_value + 114) / 2 / 255


def test_output_layout_nms_threshold_and_mapping(model: YoloModel) -> None:
    found = model.detect(white_frame())
    m = brightness(255)
    # The second no_hat (0.8) overlaps the first and goes; the person overlapping them is
    # another class and stays; the rat (0.1 × m) is below the threshold.
    assert [d.class_name for d in found] == ["no_hat", "person", "no_hat"]
    for detection, score in zip(found, (0.9, 0.7, 0.6), strict=True):
        assert detection.confidence == pytest.approx(score * m, abs=1e-3)
    no_hat, person, far = found
    # 128×64 frame into 64×64: scale 0.5, padded 16 px above and below.
    # Input box (24, 24, 16, 16) → frame ((24-0)/0.5, (24-16)/0.5, 32, 32).
    assert no_hat.box == Box(48, 16, 32, 32)
    assert person.box == Box(46, 14, 36, 36)
    assert far.box == Box(96, 0, 16, 16)  # (48-0)/0.5, (16-16)/0.5


def test_the_frame_goes_through_the_network(model: YoloModel) -> None:
    assert model.detect(np.zeros((64, 128, 3), np.uint8)) == []
    # A dark frame: only 0.9 × m stays above 0.25.
    dark = model.detect(np.full((64, 128, 3), 60, np.uint8))
    assert [d.class_name for d in dark] == ["no_hat"]
    assert dark[0].confidence == pytest.approx(0.9 * brightness(60), abs=1e-3)


def test_observations_carry_the_model_hash_and_no_accuracy_claim(model: YoloModel) -> None:
    zones = {"counter": [(40, 0), (127, 0), (127, 63), (40, 63)]}
    detector = YoloDetector(model, zones=zones)
    context = FrameContext("cam-1", 7, 2.0, datetime(2026, 11, 25, 10, tzinfo=UTC))
    observations = detector.observe(white_frame(), context)
    assert [o.type for o in observations] == ["no_hat", "person", "no_hat"]
    digest = hashlib.sha256(model.path.read_bytes()).hexdigest()
    for obs in observations:
        assert obs.detail["model_sha256"] == digest
        assert obs.detail["model_name"] == model.path.name
        assert obs.detail["claim"] == NO_ACCURACY_CLAIM
        assert obs.detector == f"yolo:{model.path.name}"
        assert obs.zone == "counter"


def test_a_wrong_output_shape_is_named(tmp_path: Path) -> None:
    path = build_model(tmp_path / "odd.onnx", [[1, 2, 3]], 0, v8=False)
    with pytest.raises(ValueError, match=r"output shape \(1, 1, 3\) fits neither"):
        YoloModel(path, CLASSES, input_size=INPUT).detect(white_frame())


def test_missing_and_broken_model_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        YoloModel(tmp_path / "missing.onnx", CLASSES)
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x00garbage")
    with pytest.raises(ValueError, match="did not load"):
        YoloModel(broken, CLASSES)


def test_letterbox_centres_the_frame() -> None:
    canvas, fit = letterbox(np.full((100, 200, 3), 255, np.uint8), (64, 64))
    assert (fit.scale, fit.pad_x, fit.pad_y) == (0.32, 0, 16)
    assert canvas[0, 0, 0] == 114 and canvas[32, 32, 0] == 255


def test_config_adapter_uses_relative_zones(tmp_path: Path) -> None:
    path = build_model(tmp_path / "tiny.onnx", V5_ROWS, 4, v8=False)
    config = CameraConfig(
        camera_id="cam-1",
        premises_id="p-1",
        zones=(Zone("right", "bins", ((0.7, 0.0), (1.0, 0.0), (1.0, 1.0), (0.7, 1.0))),),
        yolo_model=str(path),
        yolo_classes=CLASSES,
    )
    detector = load_yolo_detector(config)
    detector.model.input_size = INPUT
    context = FrameContext("cam-1", 0, 0.0, datetime(2026, 11, 25, 10, tzinfo=UTC))
    zones = [o.zone for o in detector.observe(white_frame(), context)]
    assert zones == [None, None, "right"]


def rules_run(
    model: YoloModel, rules: Sequence[ObservationRule], times: Sequence[float], **config: Any
) -> list[list[str]]:
    """Frames of the tiny model at ``times`` (s) through the pipeline's rules: each frame's
    violations as ``rule@zone``."""
    camera = CameraConfig(
        camera_id="cam-1", premises_id="p-1", observation_rules=tuple(rules), **config
    )
    zones = {zone.name: zone.polygon for zone in camera.zones}
    detector = YoloDetector(model, zones=zones, relative_zones=True)
    book = RuleBook(camera)
    start = datetime(2026, 11, 25, 10, tzinfo=UTC)
    out = []
    for i, t in enumerate(times):
        frame = white_frame()
        context = FrameContext(
            "cam-1", i, t, start + timedelta(seconds=t), frame_size=(frame.shape[1], frame.shape[0])
        )
        found = book.judge(detector.observe(frame, context), context)
        out.append([f"{v.rule}@{v.zone}" for v in found])
    return out


def no_hat_rule(**limits: Any) -> ObservationRule:
    return ObservationRule(type="no_hat", rule="no_hat", alert_class=3, **limits)


def test_persistence_and_repeat_interval(model: YoloModel) -> None:
    rule = no_hat_rule(persist_seconds=3, repeat_minutes=10 / 60)
    seen = rules_run(model, [rule], [float(t) for t in range(16)])
    # The far no_hat and the main one share the rule and the (zone-less) key: one episode.
    assert [t for t, found in enumerate(seen) if found] == [3, 13]
    assert seen[3] == ["no_hat@None"]


def test_a_gap_restarts_persistence(model: YoloModel) -> None:
    times = [0, 1, 5, 6, 7]
    # The camera's gap (5 s at 1 frame/s) bridges the 4 s pause; the rule's own 2 s does not.
    rule = no_hat_rule(persist_seconds=2, repeat_minutes=100)
    assert rules_run(model, [rule], times) == [[], [], ["no_hat@None"], [], []]
    rule = no_hat_rule(persist_seconds=2, repeat_minutes=100, max_gap_seconds=2)
    assert rules_run(model, [rule], times) == [[], [], [], [], ["no_hat@None"]]


def test_min_confidence_zones_and_the_foot_point(model: YoloModel) -> None:
    # On the 128×64 frame: "right" from x = 90 px, "floor" from y = 40 px.
    zones = (
        Zone("right", "bins", ((90 / 127, 0.0), (1.0, 0.0), (1.0, 1.0), (90 / 127, 1.0))),
        Zone("floor", "other", ((0.0, 40 / 63), (1.0, 40 / 63), (1.0, 1.0), (0.0, 1.0))),
    )
    rules = [
        ObservationRule("no_hat", "no_hat_right", 3, min_confidence=0.4, zones=("right",)),
        ObservationRule("person", "person_high", 3, min_confidence=0.8),
        ObservationRule("no_hat", "no_hat_floor", 3, zones=("floor",), anchor="foot"),
        ObservationRule("no_hat", "no_hat_floor_by_centre", 3, zones=("floor",)),
    ]
    rules = [replace(rule, persist_seconds=0) for rule in rules]
    # The far no_hat box (96, 0, 16, 16) has its centre in "right"; the main no_hat box
    # (48, 16, 32, 32) has its foot point (64, 48) on the floor but its centre (64, 32)
    # above it; the person (0.7 × 0.72) is below 0.8.
    assert rules_run(model, rules, [0], zones=zones) == [
        ["no_hat_right@right", "no_hat_floor@floor"]
    ]


def test_violations_name_the_model(model: YoloModel) -> None:
    rule = ObservationRule("no_hat", "no_hat_seen", 3, persist_seconds=0)
    camera = CameraConfig(camera_id="cam-1", premises_id="p-1", observation_rules=(rule,))
    context = FrameContext("cam-1", 0, 0.0, datetime(2026, 11, 25, 10, tzinfo=UTC))
    observations = YoloDetector(model).observe(white_frame(), context)
    (violation,) = RuleBook(camera).judge(observations, context)
    assert f"model {model.path.name} sha256 {model.sha256}" in violation.description
    assert violation.measurements["confidence"] == round(
        max(o.confidence for o in observations if o.type == "no_hat"), 4
    )


def test_a_foot_rule_needs_the_frame_size(model: YoloModel) -> None:
    zone = Zone("floor", "other", ((0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)))
    rule = ObservationRule("no_hat", "no_hat_floor", 3, zones=("floor",), anchor="foot")
    camera = CameraConfig(
        camera_id="cam-1", premises_id="p-1", zones=(zone,), observation_rules=(rule,)
    )
    context = FrameContext("cam-1", 0, 0.0, datetime(2026, 11, 25, 10, tzinfo=UTC))
    observations = YoloDetector(model).observe(white_frame(), context)
    with pytest.raises(ValueError, match="no_hat_floor.*frame size"):
        RuleBook(camera).judge(observations, context)
