"""Where simulated readings go: the platform's HTTP device API or the MQTT broker.

A sink takes :class:`Delivery` objects (one device's signed readings, or one
gateway's signed batch) and counts what became of them in :class:`SinkStats`:
accepted, rejected by the platform (by rejection code), or failed in transit
(by reason), and the latency of each request or publish.

Over HTTP "accepted" is the platform's verdict. Over MQTT it is the broker's
PUBACK: the platform's verdict on a reading is not visible to a publisher.

Registration of the fleet's devices and gateways is here too, over the admin
HTTP API or in-process into a store.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy.orm import Session, sessionmaker

from traceability.devices import repository as device_repository
from traceability.devices.registry import DeviceRegistry
from traceability.errors import Conflict, Forbidden, SunledgerError
from traceability.simulator.fleet import Fleet
from traceability.storage.db import transaction

READINGS_PATH = "/v1/probes/readings"
MAX_READINGS_PER_REQUEST = 1000
MQTT_TOPIC = "sunledger/probes/{device_id}/readings"
MAX_LATENCIES = 1_000_000
MAX_DETAILS = 20


class SinkUnavailable(SunledgerError):
    """The server or broker could not be reached (after bounded retries)."""

    status_code = 503


@dataclass(frozen=True)
class Delivery:
    """What one sender hands over: a device's signed readings, or a gateway's signed batch."""

    sender: str
    body: Any
    readings: int
    is_batch: bool

    @classmethod
    def from_device(cls, device_id: str, signed: Sequence[dict[str, Any]]) -> Delivery:
        return cls(device_id, list(signed), len(signed), False)

    @classmethod
    def from_gateway(cls, batch: dict[str, Any]) -> Delivery:
        return cls(str(batch["gateway_id"]), batch, len(batch["readings"]), True)


@dataclass
class SinkStats:
    """Running totals of a sink, counted in readings (``requests`` and latencies per send)."""

    sent: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    latencies: list[float] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def latency(self, seconds: float) -> None:
        if len(self.latencies) < MAX_LATENCIES:
            self.latencies.append(seconds)

    def detail(self, text: str) -> None:
        if len(self.details) < MAX_DETAILS:
            self.details.append(text)


class Sink(Protocol):
    """Anything readings can be sent to (the demo may bring an in-process one)."""

    stats: SinkStats

    def send(self, deliveries: Sequence[Delivery]) -> None: ...

    def close(self) -> None: ...


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class HttpSink:
    """``POST {url}/v1/probes/readings`` over one keep-alive ``httpx.Client``.

    Device readings of several devices share a request (up to 1,000 readings);
    a gateway batch is a request of its own. The platform refuses a request
    whole when one reading in it is bad, so every reading of a refused request
    counts as rejected under the refusal's code. Only failures to connect are
    retried (with backoff, ``retries`` times): a request that may have reached
    the server is never sent twice.
    """

    def __init__(
        self,
        url: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 30.0,
        retries: int = 3,
    ) -> None:
        self.url = url.rstrip("/")
        self._own_client = client is None
        self.client = client or httpx.Client(
            timeout=timeout,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
        )
        self.retries = retries
        self.stats = SinkStats()

    def send(self, deliveries: Sequence[Delivery]) -> None:
        chunk: list[Any] = []
        for delivery in deliveries:
            if delivery.is_batch:
                self._post(delivery.body, delivery.readings)
                continue
            for reading in delivery.body:
                if len(chunk) == MAX_READINGS_PER_REQUEST:
                    self._post({"readings": chunk}, len(chunk))
                    chunk = []
                chunk.append(reading)
        if chunk:
            self._post({"readings": chunk}, len(chunk))

    def _post(self, body: Any, readings: int) -> None:
        self.stats.sent += readings
        self.stats.requests += 1
        content = _json(body)
        for attempt in range(self.retries + 1):
            began = time.perf_counter()
            try:
                response = self.client.post(
                    self.url + READINGS_PATH,
                    content=content,
                    headers={"content-type": "application/json"},
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt < self.retries:
                    time.sleep(min(0.2 * 2**attempt, 2.0))
                    continue
                self.stats.failed["unreachable"] += readings
                self.stats.detail(f"{self.url}: {exc}")
                return
            except httpx.TimeoutException:
                self.stats.failed["timeout"] += readings
                return
            except httpx.HTTPError as exc:
                self.stats.failed["transport_error"] += readings
                self.stats.detail(f"{self.url}: {exc}")
                return
            self.stats.latency(time.perf_counter() - began)
            self._count(response, readings)
            return

    def _count(self, response: httpx.Response, readings: int) -> None:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code == 200:
            accepted = answer.get("accepted") if isinstance(answer, dict) else None
            accepted = accepted if isinstance(accepted, int) else readings
            self.stats.accepted += min(accepted, readings)
            if accepted < readings:
                self.stats.rejected["not_accepted"] += readings - accepted
            return
        code = (
            str(answer["code"])
            if isinstance(answer, dict) and isinstance(answer.get("code"), str)
            else f"http_{response.status_code}"
        )
        self.stats.rejected[code] += readings
        detail = answer.get("detail") if isinstance(answer, dict) else response.text[:200]
        self.stats.detail(f"{code}: {detail}")

    def close(self) -> None:
        if self._own_client:
            self.client.close()


class MqttSink:
    """Publishes each device's readings to ``sunledger/probes/{device_id}/readings``, QoS 1.

    One reading goes as an object, several as a JSON list. ``send`` waits (at most
    ``ack_timeout`` seconds) for every PUBACK; what is not acknowledged by then
    counts as failed ("no_puback"), though paho may still deliver it later. The
    first connection is retried ``connect_attempts`` times with backoff; after a
    lost connection paho reconnects by itself (1 s doubling to 16 s) and resends
    what was in flight. At most ``max_queued`` messages wait in paho's queue.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        client_id: str | None = None,
        keepalive: int = 30,
        ack_timeout: float = 10.0,
        connect_attempts: int = 5,
        max_queued: int = 20_000,
    ) -> None:
        self.host, self.port = host, port
        self.ack_timeout = ack_timeout
        self.stats = SinkStats()
        self._connected = threading.Event()
        self._refused: str | None = None
        self._acked: dict[int, float] = {}
        self._acks = threading.Condition()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id or f"sunledger-sim-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.reconnect_delay_set(min_delay=1, max_delay=16)
        self.client.max_inflight_messages_set(256)
        self.client.max_queued_messages_set(max_queued)
        self._connect(keepalive, connect_attempts)

    def _connect(self, keepalive: int, attempts: int) -> None:
        problem: Exception | None = None
        for attempt in range(attempts):
            try:
                self.client.connect(self.host, self.port, keepalive=keepalive)
                break
            except OSError as exc:
                problem = exc
                if attempt + 1 < attempts:
                    time.sleep(min(0.25 * 2**attempt, 4.0))
        else:
            raise SinkUnavailable(f"MQTT broker {self.host}:{self.port}: {problem}")
        self.client.loop_start()
        if not self._connected.wait(timeout=10.0) or self._refused is not None:
            self.close()
            reason = self._refused or "no CONNACK within 10 s"
            raise SinkUnavailable(f"MQTT broker {self.host}:{self.port}: {reason}")

    def _on_connect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._refused = f"connection refused: {reason_code}"
        else:
            self._no_delay()
        self._connected.set()

    def _no_delay(self) -> None:
        # paho leaves Nagle on: small publishes then wait for the broker's delayed
        # TCP ACK (40 ms on Linux) before leaving. Readings are small and many.
        sock = self.client.socket()
        if isinstance(sock, socket.socket):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.DisconnectFlags,
        _reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._connected.clear()

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        mid: int,
        _reason_code: ReasonCode,
        _properties: Properties,
    ) -> None:
        # Runs on paho's network thread, inside paho's locks: never call paho from here.
        with self._acks:
            self._acked[mid] = time.perf_counter()
            self._acks.notify_all()

    def send(self, deliveries: Sequence[Delivery]) -> None:
        waiting: list[tuple[mqtt.MQTTMessageInfo, float, int]] = []
        for delivery in deliveries:
            if delivery.is_batch:
                raise ValueError("MQTT carries one device's readings; send gateway batches by HTTP")
            body = delivery.body[0] if delivery.readings == 1 else delivery.body
            topic = MQTT_TOPIC.format(device_id=delivery.sender)
            self.stats.sent += delivery.readings
            self.stats.requests += 1
            began = time.perf_counter()
            info = self.client.publish(topic, _json(body), qos=1)
            if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
                self.stats.failed["queue_full"] += delivery.readings
                continue
            waiting.append((info, began, delivery.readings))
        deadline = time.perf_counter() + self.ack_timeout
        position = 0
        with self._acks:
            while position < len(waiting):
                if waiting[position][0].is_published():
                    position += 1
                    continue
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    break
                # is_published() turns true just after on_publish returns: poll briefly too.
                self._acks.wait(timeout=min(remaining, 0.05))
            now = time.perf_counter()
            for info, began, readings in waiting:
                acked_at = self._acked.pop(info.mid, None)
                if info.is_published():
                    self.stats.accepted += readings
                    self.stats.latency((acked_at or now) - began)
                else:
                    self.stats.failed["no_puback"] += readings
            if len(self._acked) > 65_536:  # acks of messages given up on
                self._acked.clear()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# --------------------------------------------------------------------------- registration


@dataclass
class RegistrationReport:
    created: int = 0
    existing: int = 0


def register_over_http(
    url: str, token: str, fleet: Fleet, *, client: httpx.Client | None = None
) -> RegistrationReport:
    """Register every device and gateway through the admin API (409: already registered).

    Over HTTP the stored key of an existing device cannot be compared; a device
    registered with another key shows up as ``bad_signature`` rejections.
    """
    report = RegistrationReport()
    http = client or httpx.Client(timeout=30.0)
    headers = {"authorization": f"Bearer {token}"}
    base = url.rstrip("/")
    try:
        for restaurant in fleet.restaurants:
            for device in restaurant.devices:
                body: dict[str, Any] = {
                    "device_id": device.device_id,
                    "premises_id": device.premises_id,
                    "location": device.location,
                    "kind": device.kind,
                    "profile": device.profile,
                    "public_key": _b64(device.public_key),
                }
                _register(http, f"{base}/v1/admin/devices", body, headers, report)
            gateway = restaurant.gateway
            body = {
                "gateway_id": gateway.gateway_id,
                "premises_id": gateway.premises_id,
                "public_key": _b64(gateway.public_key),
            }
            _register(http, f"{base}/v1/admin/gateways", body, headers, report)
    finally:
        if client is None:
            http.close()
    return report


def _register(
    http: httpx.Client,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    report: RegistrationReport,
) -> None:
    try:
        response = http.post(url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise SinkUnavailable(f"{url}: {exc}") from None
    if response.status_code == 201:
        report.created += 1
    elif response.status_code == 409:
        report.existing += 1
    elif response.status_code in (401, 403):
        raise Forbidden(f"{url}: the admin token was refused (HTTP {response.status_code})")
    else:
        raise SunledgerError(f"{url}: HTTP {response.status_code}: {response.text[:300]}")


def register_in_process(
    sessions: sessionmaker[Session], fleet: Fleet, *, now: datetime | None = None
) -> RegistrationReport:
    """Register every device and gateway in the store, one transaction per restaurant.

    Devices already registered with the same key count as existing; with any
    other key (or none: retired) it is a :class:`Conflict`.
    """
    registry = DeviceRegistry()
    moment = now or datetime.now(UTC)
    report = RegistrationReport()
    for restaurant in fleet.restaurants:
        with transaction(sessions) as session:
            for device in restaurant.devices:
                try:
                    registry.register_device(
                        session,
                        device_id=device.device_id,
                        premises_id=device.premises_id,
                        location=device.location,
                        kind=device.kind,
                        profile=device.profile,
                        public_key=device.public_key,
                        now=moment,
                    )
                    report.created += 1
                except Conflict:
                    _same_key(session, "device", device.device_id, device.public_key)
                    report.existing += 1
            gateway = restaurant.gateway
            try:
                registry.register_gateway(
                    session,
                    gateway_id=gateway.gateway_id,
                    premises_id=gateway.premises_id,
                    public_key=gateway.public_key,
                    now=moment,
                )
                report.created += 1
            except Conflict:
                _same_key(session, "gateway", gateway.gateway_id, gateway.public_key)
                report.existing += 1
    return report


def _same_key(session: Session, owner_type: str, owner_id: str, public_key: bytes) -> None:
    key = device_repository.active_keys(session, owner_type, [owner_id]).get(owner_id)
    if key is None or bytes(key.public_key) != public_key:
        raise Conflict(
            f"{owner_type} {owner_id} is already registered with another key"
            + (" (or retired)" if key is None else "")
            + ": use another --seed, or the --keys-file it was registered from"
        )
