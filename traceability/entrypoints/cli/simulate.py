"""``sunledger simulate probes``: a fleet of simulated kitchen probes sending signed readings."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from traceability.entrypoints.cli.console import err, fail, load_settings, out
from traceability.entrypoints.cli.progress import progress_bar
from traceability.errors import SunledgerError
from traceability.simulator.curves import DAY
from traceability.simulator.fleet import build_fleet
from traceability.simulator.run import (
    SimulationReport,
    default_start,
    rate_for_rules,
    sampling_intervals,
    simulate,
)
from traceability.simulator.transports import (
    HttpSink,
    MqttSink,
    RegistrationReport,
    Sink,
    register_in_process,
    register_over_http,
)


class Transport(StrEnum):
    http = "http"
    mqtt = "mqtt"


class Profile(StrEnum):
    cn = "cn"
    us = "us"


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` group (with ``probes``) to ``app``."""
    simulate_app = typer.Typer(help="Simulated devices.", no_args_is_help=True)
    simulate_app.command("probes")(probes)
    app.add_typer(simulate_app, name="simulate")


def probes(
    restaurants: Annotated[
        int, typer.Option(min=1, max=10_000, help="Restaurants, 7 probes and a gateway each.")
    ] = 2,
    rate: Annotated[
        float, typer.Option(min=0.01, max=100_000, help="Readings per real second, in total.")
    ] = 5.0,
    duration: Annotated[
        float, typer.Option(min=0.1, max=7 * 86_400, help="Real seconds to run.")
    ] = 60.0,
    faults: Annotated[
        bool,
        typer.Option(
            "--faults",
            help="A failing fridge, a hot-holding drop, a stalled cooling run, an undercooked "
            "run, a cold dishwasher rinse and a probe that goes silent.",
        ),
    ] = False,
    transport: Annotated[Transport, typer.Option(help="How readings are sent.")] = Transport.http,
    url: Annotated[str, typer.Option(help="The platform's base URL.")] = "http://127.0.0.1:8000",
    mqtt_host: Annotated[str, typer.Option(help="MQTT broker host.")] = "127.0.0.1",
    mqtt_port: Annotated[int, typer.Option(min=1, max=65_535, help="MQTT broker port.")] = 1883,
    gateway: Annotated[
        bool, typer.Option("--gateway", help="Send gateway-signed batches (HTTP only).")
    ] = False,
    speedup: Annotated[
        float,
        typer.Option(
            min=0.001,
            max=1_000_000,
            help="Simulated seconds per real second (1440: a day in a minute).",
        ),
    ] = 1.0,
    admin_token: Annotated[
        str | None,
        typer.Option(
            envvar="SUNLEDGER_ADMIN_TOKEN",
            help="Register the devices over the admin API with this token.",
        ),
    ] = None,
    keys_file: Annotated[
        Path | None,
        typer.Option(help="Keep random device keys here (0600), reused by later runs."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Register the devices in-process in this embedded store instead of over HTTP.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the curves (and of keys without a file).")] = 1,
    profile: Annotated[Profile, typer.Option(help="Jurisdiction profile.")] = Profile.cn,
    batch: Annotated[int, typer.Option(min=1, max=1000, help="Readings per send.")] = 100,
    start: Annotated[
        str | None,
        typer.Option(
            help="Simulated start, RFC 3339 (default: so that simulated time reaches now at "
            "the end)."
        ),
    ] = None,
) -> None:
    """Simulate kitchen probes: realistic curves, signed with device keys, over HTTP or MQTT.

    Exits 0 when everything sent was accepted (a --faults run included: faults
    are physical, the readings are still valid), 1 when some readings were
    rejected or not delivered, 2 on usage errors.
    """

    if gateway and transport is Transport.mqtt:
        raise fail("--gateway batches go over HTTP only; drop --gateway or use --transport http")
    if start is None:
        start_at = default_start(duration, speedup)
    else:
        try:
            start_at = datetime.fromisoformat(start)
        except ValueError:
            raise fail(f"--start {start!r} is not an RFC 3339 time") from None
        if start_at.tzinfo is None:
            raise fail("--start needs a time zone, e.g. 2026-11-25T00:00:00Z")
    if duration * speedup > 6.5 * DAY:
        err.print(
            "[yellow]warning:[/] more than 6.5 simulated days: the platform refuses readings "
            "measured over 7 days ago",
            highlight=False,
        )
    try:
        fleet = build_fleet(
            restaurants, seed=seed, profile=profile.value, keys_file=keys_file, prefix="sim"
        )
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    except OSError as exc:
        raise fail(f"{keys_file}: {exc.strerror}") from None

    needed = rate_for_rules(fleet, speedup)
    if rate < needed:
        intervals = sampling_intervals(fleet, rate, speedup)
        err.print(
            f"[yellow]warning:[/] at this rate and speedup a dishwasher reports every "
            f"{intervals['dishwasher']:.0f} s and a core probe every "
            f"{intervals['core_probe']:.0f} s (simulated): too sparse to prove rinse and "
            f"cooking temperatures, so expect false alarms; use --rate {math.ceil(needed)} "
            "or more, or a lower --speedup",
            highlight=False,
        )

    registration: RegistrationReport | None = None
    try:
        if data_dir is not None:
            from traceability.platform import open_platform

            engine, sessions, _log, _signer = open_platform(load_settings(data_dir))
            try:
                registration = register_in_process(sessions, fleet)
            finally:
                engine.dispose()
        elif admin_token:
            registration = register_over_http(url, admin_token, fleet)
    except SunledgerError as exc:
        raise fail(f"registering the devices: {exc.detail}", 1) from None
    if registration is None:
        err.print(
            "not registering devices (no --admin-token or --data-dir): they must be registered",
            highlight=False,
        )

    try:
        sink: Sink = (
            HttpSink(url) if transport is Transport.http else MqttSink(mqtt_host, mqtt_port)
        )
    except SunledgerError as exc:
        raise fail(exc.detail, 1) from None
    with progress_bar("simulating probes", status=True) as progress:
        task = progress.add_task("probes", total=None, status="")

        def on_progress(report: SimulationReport) -> None:
            rejected = sum(report.rejected.values()) + sum(report.failed.values())
            progress.update(
                task,
                total=report.planned,
                completed=report.generated + report.silent,
                status=f"{report.accepted} accepted, {rejected} not",
            )

        try:
            report = simulate(
                fleet,
                sink,
                rate=rate,
                duration=duration,
                speedup=speedup,
                start=start_at,
                faults=faults,
                batch=batch,
                gateway=gateway,
                on_progress=on_progress,
            )
        except SunledgerError as exc:
            raise fail(exc.detail) from None
        finally:
            sink.close()
    where = url if transport is Transport.http else f"mqtt://{mqtt_host}:{mqtt_port}"
    for line in summary(report, len(fleet.devices), rate, where, registration, transport.value):
        out.print(line, highlight=False, markup=False)
    if not report.all_accepted:
        raise typer.Exit(1)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def summary(
    report: SimulationReport,
    probe_count: int,
    rate: float,
    where: str,
    registration: RegistrationReport | None,
    transport: str,
) -> list[str]:
    """The lines printed after a run."""
    end = datetime.fromtimestamp(report.start.timestamp() + report.simulated_seconds, UTC)
    accepted = "acknowledged by the broker" if transport == "mqtt" else "accepted"
    lines = []
    if registration is not None:
        lines.append(
            f"registered {registration.created} devices and gateways "
            f"({registration.existing} were already registered)"
        )
    lines += [
        f"{probe_count} probes, simulated {report.start:%Y-%m-%d %H:%M} "
        f"to {end:%Y-%m-%d %H:%M} UTC "
        f"({report.simulated_seconds / 3600:.1f} h) in {report.real_seconds:.1f} s",
        f"sent {report.sent} readings in {report.requests} sends to {where}: "
        f"{report.accepted} {accepted}",
        f"rate {report.achieved_rate:.1f} readings/s (asked {rate:g}), latency "
        f"p50 {_ms(report.latency_p50)}, p99 {_ms(report.latency_p99)}",
    ]
    if report.silent:
        lines.append(f"{report.silent} readings not sent by a silent probe (fault)")
    for planned in report.faults:
        lines.append(
            f"fault {planned.fault.name} on {planned.device_id} from {planned.onset:%H:%M} UTC: "
            f"{planned.description}"
        )
    for code, count in sorted(report.rejected.items()):
        lines.append(f"rejected: {count} readings, {code}")
    for reason, count in sorted(report.failed.items()):
        lines.append(f"not delivered: {count} readings, {reason}")
    lines += [f"  {detail}" for detail in report.details[:5]]
    return lines
