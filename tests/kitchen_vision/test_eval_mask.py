"""`sunledger vision eval mask DIR`: JSON with accuracy, per-class figures, face-found rate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_faces import SAMPLE, drawn_scene, photos
from typer.testing import CliRunner

from kitchen_vision.eval_mask import eval_mask_command


def small_sample(tmp_path: Path) -> Path:
    root = tmp_path / "sample"
    for folder in ("with_mask", "without_mask"):
        (root / folder).mkdir(parents=True)
        for path in photos(folder)[:6]:
            shutil.copy(path, root / folder / path.name)
    # A picture with no face: it must count as a wrong answer for its class.
    cv2.imwrite(str(root / "without_mask" / "zz_kitchen.png"), drawn_scene())
    return root


def test_the_command_prints_the_figures_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_sample(tmp_path)
    report = eval_mask_command(root, True, "all", 1)
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(report))
    assert printed["images"] == 13
    assert set(printed["classes"]) == {"mask", "no_mask"}
    for figures in printed["classes"].values():
        assert {"precision", "recall", "images", "faces_found"} <= set(figures)
    assert printed["confusion"]["no_mask"]["no_face"] >= 1
    assert printed["face_found_rate"] <= round(12 / 13, 4)
    assert printed["ms_per_image"] > 0
    correct = printed["confusion"]["mask"]["mask"] + printed["confusion"]["no_mask"]["no_mask"]
    assert printed["accuracy"] == round(correct / 13, 4)
    assert printed["classes"]["no_mask"]["recall"] <= 6 / 7


def test_through_the_cli(tmp_path: Path) -> None:
    from traceability.entrypoints.cli.app import app

    root = small_sample(tmp_path)
    result = CliRunner().invoke(app, ["vision", "eval", "mask", str(root), "--json"])
    assert result.exit_code == 0, result.output
    line = [ln for ln in result.output.splitlines() if ln.startswith("{")][-1]
    assert json.loads(line)["images"] == 13


def test_a_folder_without_the_class_folders_fails_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "with_mask").mkdir()
    cv2.imwrite(str(tmp_path / "with_mask" / "a.png"), np.zeros((10, 10, 3), np.uint8))
    result = CliRunner().invoke(_app(), ["vision", "eval", "mask", str(tmp_path)])
    assert result.exit_code == 2
    assert "without_mask" in result.output


def test_an_unreadable_image_is_named(tmp_path: Path) -> None:
    for folder in ("with_mask", "without_mask"):
        (tmp_path / folder).mkdir()
    (tmp_path / "with_mask" / "broken.jpg").write_bytes(b"not a jpeg")
    result = CliRunner().invoke(_app(), ["vision", "eval", "mask", str(tmp_path)])
    assert result.exit_code == 2
    assert "broken.jpg" in result.output


def _app():  # type: ignore[no-untyped-def]
    from traceability.entrypoints.cli.app import app

    return app


assert SAMPLE is not None
