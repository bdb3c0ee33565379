"""``sunledger vision``: analyse a video, watch live cameras.

Heavy imports (OpenCV, the pipeline, the database) happen inside the commands,
so the rest of ``sunledger`` starts as fast as before.
"""

from __future__ import annotations

import importlib
import json
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from traceability.entrypoints.cli.console import err, fail, load_settings, out
from traceability.entrypoints.cli.progress import progress_bar, tracking
from traceability.errors import SunledgerError

vision_app = typer.Typer(
    help="The open-kitchen vision checker: analyse videos, watch cameras.",
    no_args_is_help=True,
)


def _register_optional_commands() -> None:
    """PART of the checker lives in optional modules (``vision eval mask``); add their
    commands when they are there."""
    try:
        module = importlib.import_module("kitchen_vision.eval_mask")
    except ImportError:
        return
    register = getattr(module, "register", None)
    if callable(register):
        register(vision_app)
        return
    eval_app = getattr(module, "eval_app", None)
    if isinstance(eval_app, typer.Typer):
        vision_app.add_typer(eval_app, name="eval")
        return
    command = getattr(module, "eval_mask_command", None)
    if not callable(command):
        return
    evaluation = typer.Typer(help="Evaluate a detector on labelled photos.", no_args_is_help=True)

    @evaluation.command("mask")
    def mask(
        directory: Annotated[
            Path, typer.Argument(help="A folder with with_mask/ and without_mask/.")
        ],
        json_output: Annotated[bool, typer.Option("--json", help="One line of JSON.")] = False,
        split: Annotated[
            str, typer.Option(help="all, train or heldout (the split the model never saw).")
        ] = "all",
        threads: Annotated[
            int | None, typer.Option(help="OpenCV threads (1 measures per core).")
        ] = None,
    ) -> None:
        """Accuracy, per-class precision and recall, face-found rate and ms per image (JSON)."""
        if split not in ("all", "train", "heldout"):
            raise fail(f"--split: {split!r} is not all, train or heldout")
        with progress_bar("mask eval", eta=False, transient=True) as progress:
            command(directory, json_output, split, threads, on_progress=tracking(progress, "mask"))

    vision_app.add_typer(evaluation, name="eval")


@vision_app.command()
def analyze(
    video: Annotated[str, typer.Argument(help="A video file, an image folder or a stream URL.")],
    config_file: Annotated[
        Path | None,
        typer.Option("--config", help="Camera configuration (YAML): zones, hours, rules."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line (frame, time, type, ...).")
    ] = False,
) -> None:
    """Print every observation of a video: frame index, time, type, confidence, zone.
    Violations the rules raise are printed as observations of type ``violation``."""
    from kitchen_vision.config import default_config, load_config
    from kitchen_vision.pipeline import Pipeline
    from kitchen_vision.sources import ImageFolderSource, VideoFileSource, open_source

    try:
        config = (
            load_config(config_file)
            if config_file is not None
            else default_config(Path(video).stem or "camera")
        )
        source = open_source(
            video,
            sample_fps=config.sample_fps,
            frame_width=config.frame_width,
            start=config.start_time,
        )
        pipeline = Pipeline(config)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    total = source.samples if isinstance(source, VideoFileSource | ImageFolderSource) else None
    faces = pipeline.face_detector.name if pipeline.face_detector is not None else "none"
    if not as_json:
        names = ", ".join(d.name for d in pipeline.detectors) or "none"
        err.print(f"detectors: {names}; evidence face blurring: {faces}", highlight=False)
    progress = progress_bar("analysing", eta=False, transient=True)
    count = 0
    with progress:
        task = progress.add_task("frames", total=total)
        try:
            for result in pipeline.run(source.frames()):
                progress.advance(task)
                items = list(result.observations) + [v.to_observation() for v in result.violations]
                for obs in items:
                    count += 1
                    if as_json:
                        print(json.dumps(obs.to_json(), sort_keys=True), flush=True)
                    else:
                        zone = obs.zone or "-"
                        out.print(
                            f"frame {obs.frame:>6}  t={obs.time:8.2f}s  {obs.type:<18} "
                            f"conf={obs.confidence:.2f}  zone={zone}  ({obs.detector})",
                            highlight=False,
                        )
        except SunledgerError as exc:
            raise fail(exc.detail) from None
    if not as_json:
        err.print(f"{count} observations", highlight=False)


@vision_app.command()
def run(
    config_file: Annotated[Path, typer.Argument(help="Camera configuration(s), YAML.")],
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Embedded mode: the data directory.")
    ] = None,
) -> None:
    """Watch live cameras until SIGTERM or Ctrl-C; observations and violations go to the log."""
    from kitchen_vision.config import load_configs
    from kitchen_vision.watch import watch_cameras
    from traceability.cameras.vision_ledger import LedgerSink, VisionLedger
    from traceability.platform import open_platform
    from traceability.public_record.stove_readings import LoggedStoveProbe

    try:
        configs = load_configs(config_file)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    missing = [c.camera_id for c in configs if c.source is None]
    if missing:
        raise fail(f"{config_file}: camera {missing[0]} has no source")
    settings = load_settings(data_dir)
    try:
        _engine, sessions, log, _signer = open_platform(settings)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    stop = threading.Event()

    def stopping(signum: int, _frame: FrameType | None) -> None:
        err.print(f"{signal.Signals(signum).name}: stopping after the current frames")
        stop.set()

    previous = {s: signal.signal(s, stopping) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        err.print(f"watching {len(configs)} camera(s); SIGTERM or Ctrl-C stops", highlight=False)
        sink = LedgerSink(sessions, VisionLedger(log))
        outcome = watch_cameras(configs, sink, stop, stove_probe=LoggedStoveProbe(sessions))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(json.dumps(outcome, indent=2, sort_keys=True))
    if any("error" in o for o in outcome.values()):
        raise typer.Exit(1)


_register_optional_commands()
