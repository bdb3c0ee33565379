"""The tamper check on real footage: per-class detection, false alarms per hour, onset delay.

Usage: python bench/vision_eval.py [--fps 1 2 5 10 30] [--clips street pedestrian ...]

Plays the real excerpts of tests/kitchen_vision/data/real (see SOURCES.md there) through
``TamperDetector`` at each sampling rate, with the physically modelled tampers of
tests/kitchen_vision/footage.py applied from second ``--onset`` on:

* a tamper scenario is *detected* when the first confirmed alert after the onset is of
  the expected kind; its delay is from the onset to that alert (for the gradual defocus,
  from the start of the 20-second ramp); an alert of another kind first is *wrong kind*;
* every alert episode (a run of consecutive alerting samples) before a tamper's onset,
  and any in a normal scenario (the clips as they are, lights off and on, steam,
  flicker), is a false alarm; false alarms per hour are over all that normal time.

Results go to bench/results/vision_eval.json and the markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "kitchen_vision"))

import footage  # noqa: E402

from kitchen_vision.observations import FrameContext  # noqa: E402
from kitchen_vision.tamper import TamperDetector  # noqa: E402

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)


@dataclass
class Run:
    clip: str
    model: str
    fps: float
    expected: str | None
    onset: float
    seconds: float
    alerts: list[tuple[float, str]] = field(default_factory=list)

    def episodes(self, until: float) -> int:
        """Alert episodes that start before ``until`` seconds."""
        count, previous = 0, None
        step = 1 / self.fps
        for t, _kind in self.alerts:
            if t >= until:
                break
            if previous is None or t - previous > step * 1.5:
                count += 1
            previous = t
        return count

    def first_after_onset(self) -> tuple[float, str] | None:
        return next(((t, k) for t, k in self.alerts if t >= self.onset), None)


def play(clip: str, model_name: str, fps: float, onset: float, seconds: float) -> Run:
    if model_name in footage.TAMPERS:
        model, expected = footage.TAMPERS[model_name]
    else:
        model, expected = footage.NORMALS[model_name], None
    run = Run(clip, model_name, fps, expected, onset, seconds)
    detector = TamperDetector()
    for k in range(int(seconds * fps)):
        t = k / fps
        frame = footage.sample(clip, model, t, onset, seed=k)
        for o in detector.observe(frame, FrameContext("eval", k, t, NOW)):
            run.alerts.append((t, o.type))
    return run


def summarise(runs: list[Run], fps: float) -> dict[str, object]:
    here = [r for r in runs if r.fps == fps]
    per_class: dict[str, dict[str, object]] = {}
    for model in footage.TAMPERS:
        rs = [r for r in here if r.model == model]
        if not rs:
            continue
        detected, wrong, delays = 0, 0, []
        for r in rs:
            first = r.first_after_onset()
            if first is None:
                continue
            if first[1] == r.expected:
                detected += 1
                delays.append(first[0] - r.onset)
            else:
                wrong += 1
        per_class[model] = {
            "scenes": len(rs),
            "detected": detected,
            "wrong_kind": wrong,
            "delay_s": [round(d, 2) for d in delays],
        }
    normal_s = 0.0
    false_alarms = 0
    kinds: dict[str, int] = {}
    for r in here:
        until = r.seconds if r.expected is None else r.onset
        normal_s += until
        false_alarms += r.episodes(until)
        for t, k in r.alerts:
            if t < until:
                kinds[k] = kinds.get(k, 0) + 1
    return {
        "fps": fps,
        "per_class": per_class,
        "normal_seconds": normal_s,
        "false_alarms": false_alarms,
        "false_alarms_per_hour": round(false_alarms * 3600 / normal_s, 1) if normal_s else None,
        "false_alarm_samples_by_kind": kinds,
    }


def table(summaries: list[dict[str, object]]) -> str:
    models = list(footage.TAMPERS)
    head = "| sample_fps | " + " | ".join(models) + " | false alarms (per hour) |"
    lines = [head, "|" + "---|" * (len(models) + 2)]
    for s in summaries:
        cells = []
        per_class = s["per_class"]
        assert isinstance(per_class, dict)
        for m in models:
            c = per_class.get(m)
            if c is None:
                cells.append("–")
                continue
            delays = c["delay_s"]
            delay = f" +{max(delays):.1f} s" if delays else ""
            wrong = f", {c['wrong_kind']} wrong kind" if c["wrong_kind"] else ""
            cells.append(f"{c['detected']}/{c['scenes']}{delay}{wrong}")
        minutes = float(s["normal_seconds"]) / 60  # type: ignore[arg-type]
        fa = f"{s['false_alarms']} in {minutes:.0f} min ({s['false_alarms_per_hour']})"
        lines.append(f"| {s['fps']:g} | " + " | ".join(cells) + f" | {fa} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, nargs="+", default=[1, 2, 5, 10, 30])
    parser.add_argument("--clips", nargs="+", default=["street", "pedestrian", "carphone"])
    parser.add_argument("--normal-clips", nargs="+", default=list(footage.CLIPS))
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--onset", type=float, default=8.0)
    parser.add_argument("--seconds", type=float, default=16.0)
    parser.add_argument("--gradual-seconds", type=float, default=34.0)
    parser.add_argument("--normal-seconds", type=float, default=30.0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    runs: list[Run] = []
    plan: list[tuple[str, str, float]] = []
    for model in args.models or [*footage.TAMPERS, *footage.NORMALS]:
        if model in footage.TAMPERS:
            secs = args.gradual_seconds if model == "gradual_defocus" else args.seconds
            plan += [(c, model, secs) for c in args.clips]
        else:
            plan += [(c, model, args.normal_seconds) for c in args.normal_clips]
    for fps in args.fps:
        for clip, model, secs in plan:
            onset = args.onset if model != "none" else secs
            run = play(clip, model, fps, onset, secs)
            runs.append(run)
            if args.verbose:
                first = run.first_after_onset()
                early = run.episodes(run.onset)
                print(f"{fps:>4g} {clip:<10} {model:<16} early={early} first={first}", flush=True)
    summaries = [summarise(runs, fps) for fps in args.fps]
    out = ROOT / "bench" / "results" / "vision_eval.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": platform.processor() or platform.machine(),
                "seconds": round(time.perf_counter() - started, 1),
                "summaries": summaries,
                "runs": [vars(r) for r in runs],
            },
            indent=1,
        )
    )
    print(table(summaries))
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
