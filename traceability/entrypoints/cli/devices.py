"""``sunledger devices ...`` and ``sunledger mqtt``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from traceability.devices.registry import DEVICE_KINDS, DeviceRegistry, decode_public_key
from traceability.entrypoints.cli.console import fail, load_settings, out
from traceability.entrypoints.cli.options import DataDir
from traceability.errors import SunledgerError
from traceability.platform import Platform, open_platform
from traceability.storage.db import transaction

devices_app = typer.Typer(help="Probes and gateways: register, rotate keys, retire.")


@devices_app.command("register")
def register(
    device_id: Annotated[str, typer.Argument(help="e.g. fr-0042")],
    premises: Annotated[str, typer.Option(help="The premises the probe belongs to.")],
    location: Annotated[str, typer.Option(help="Where it is, e.g. 'cold room 1'.")],
    kind: Annotated[str, typer.Option(help=f"One of: {', '.join(DEVICE_KINDS)}.")],
    public_key: Annotated[str, typer.Option(help="Ed25519 public key, base64 or hex.")],
    profile: Annotated[str, typer.Option(help="Jurisdiction profile: cn or us.")] = "cn",
    gateway: Annotated[
        bool, typer.Option("--gateway", help="Register a gateway (premises + key only).")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Register a probe (or with --gateway, a gateway) and its key."""

    settings = load_settings(data_dir)
    registry = DeviceRegistry()
    try:
        raw = decode_public_key(public_key)
        _engine, sessions, _log, _signer = open_platform(settings)
        with transaction(sessions) as session:
            if gateway:
                key_id = registry.register_gateway(
                    session,
                    gateway_id=device_id,
                    premises_id=premises,
                    public_key=raw,
                    now=datetime.now(UTC),
                )
                out.print(f"gateway {device_id} registered, key {key_id}", highlight=False)
                return
            info = registry.register_device(
                session,
                device_id=device_id,
                premises_id=premises,
                location=location,
                kind=kind,
                profile=profile,
                public_key=raw,
                now=datetime.now(UTC),
            )
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    out.print(f"device {info.device_id} ({info.kind}) registered, key {info.key_id}")


@devices_app.command("rotate-key")
def rotate_key(
    device_id: Annotated[str, typer.Argument()],
    public_key: Annotated[str, typer.Option(help="The new Ed25519 public key.")],
    gateway: Annotated[bool, typer.Option("--gateway")] = False,
    data_dir: DataDir = None,
) -> None:
    """Make a new key current; readings signed by the old one stay verifiable."""

    settings = load_settings(data_dir)
    try:
        raw = decode_public_key(public_key)
        _engine, sessions, _log, _signer = open_platform(settings)
        with transaction(sessions) as session:
            key_id = DeviceRegistry().rotate_key(
                session, "gateway" if gateway else "device", device_id, raw, datetime.now(UTC)
            )
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    out.print(f"{device_id}: key {key_id} is now current")


@devices_app.command("retire")
def retire(
    device_id: Annotated[str, typer.Argument()],
    gateway: Annotated[bool, typer.Option("--gateway")] = False,
    data_dir: DataDir = None,
) -> None:
    """Refuse a device's readings from now on (its history stays)."""

    settings = load_settings(data_dir)
    try:
        _engine, sessions, _log, _signer = open_platform(settings)
        with transaction(sessions) as session:
            DeviceRegistry().retire(
                session, "gateway" if gateway else "device", device_id, datetime.now(UTC)
            )
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    out.print(f"{device_id} retired")


@devices_app.command("show")
def show(device_id: Annotated[str, typer.Argument()], data_dir: DataDir = None) -> None:
    """A device, its keys (current and ended) and its last sequence number."""

    settings = load_settings(data_dir)
    registry = DeviceRegistry()
    try:
        _engine, sessions, _log, _signer = open_platform(settings)
        with sessions() as session:
            info = registry.describe(session, device_id)
            keys = registry.keys(session, "device", device_id)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    shown = {
        **info.__dict__,
        "keys": [
            {"key_id": k.key_id, "valid_from": str(k.valid_from), "valid_until": str(k.valid_until)}
            for k in keys
        ],
    }
    out.print(json.dumps(shown, indent=2), highlight=False)


def mqtt(
    data_dir: DataDir = None,
    duration: Annotated[
        float | None,
        typer.Option(help="Stop after this many seconds (default: never)."),
    ] = None,
) -> None:
    """Take probe readings from MQTT (SUNLEDGER_MQTT_HOST/PORT/TOPIC), same checks as HTTP."""
    from traceability.entrypoints.logs import configure
    from traceability.entrypoints.mqtt import ProbeSubscriber
    from traceability.entrypoints.worker import request_anchor_tick

    settings = load_settings(data_dir)
    configure(settings.log_format, settings.log_level)
    try:
        platform = Platform.open(settings)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    subscriber = ProbeSubscriber(
        platform.probe_intake,
        platform.sessions,
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        topic=settings.mqtt_topic,
        client_id=settings.mqtt_client_id,
        after_commit=lambda: request_anchor_tick(platform),
        dead_letter=settings.data_dir / "mqtt-dead-letter.jsonl",
    )
    stats = subscriber.run(duration=duration)
    out.print(json.dumps(stats.__dict__), highlight=False)


def register_commands(app: typer.Typer) -> None:
    app.add_typer(devices_app, name="devices")
    app.command("mqtt")(mqtt)
