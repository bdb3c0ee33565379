"""``sunledger mqtt``: probe readings from MQTT, through the same checks as HTTP.

Subscribes to ``sunledger/probes/+/readings`` with QoS 1 on a persistent
session and acknowledges a message only after its readings are committed (or
refused), so a crash before the commit means the broker delivers it again; a
redelivered message that was already logged is refused as a replay. Refusals
are published to ``sunledger/probes/{device_id}/rejections`` for the device.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.orm import Session, sessionmaker

from traceability.db import transaction
from traceability.errors import SunledgerError
from traceability.probe_intake import MALFORMED, ProbeIntake, ReadingRejected, parse_submission

logger = logging.getLogger("sunledger.mqtt")


@dataclass
class SubscriberStats:
    messages: int = 0
    accepted_readings: int = 0
    rejected_messages: int = 0
    rejections: dict[str, int] = field(default_factory=dict)
    connects: int = 0


def device_from_topic(pattern: str, topic: str) -> str | None:
    """The device id a topic names: the level where the subscription pattern has ``+``."""
    wanted, parts = pattern.split("/"), topic.split("/")
    if len(wanted) != len(parts) or "+" not in wanted:
        return None
    for want, part in zip(wanted, parts, strict=True):
        if want not in ("+", part):
            return None
    return parts[wanted.index("+")]


class ProbeSubscriber:
    """Feeds MQTT messages to a ``ProbeIntake``; one transaction per message."""

    def __init__(
        self,
        intake: ProbeIntake,
        sessions: sessionmaker[Session],
        *,
        host: str,
        port: int,
        topic: str,
        client_id: str = "sunledger-intake",
        after_commit: Any = None,
    ) -> None:
        self.intake = intake
        self.sessions = sessions
        self.host, self.port, self.topic = host, port, topic
        self.after_commit = after_commit
        self.stats = SubscriberStats()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            manual_ack=True,
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if getattr(reason, "is_failure", False):
            logger.warning("MQTT connect refused: %s", reason)
            return
        self.stats.connects += 1
        logger.info("connected to %s:%s, subscribing to %s", self.host, self.port, self.topic)
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: Any, _codes: Any, _p: Any) -> None:
        self.subscribed.set()

    def _on_message(self, client: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self.stats.messages += 1
        try:
            self.handle(message.topic, bytes(message.payload))
        finally:
            client.ack(message.mid, message.qos)

    def handle(self, topic: str, payload: bytes) -> int:
        """Check and log one message's readings; return how many were logged."""
        device_id = device_from_topic(self.topic, topic)
        try:
            try:
                body = json.loads(payload)
            except (ValueError, RecursionError):
                raise ReadingRejected(MALFORMED, "the payload is not JSON") from None
            readings = body if isinstance(body, list) else [body]
            submission = parse_submission({"readings": readings})
            for reading in submission.readings:
                if reading.device_id != device_id:
                    raise ReadingRejected(
                        MALFORMED,
                        f"published on {topic} but names device {reading.device_id}",
                        reading=reading.index,
                        device_id=reading.device_id,
                    )
            with transaction(self.sessions) as session:
                result = self.intake.accept(session, submission, datetime.now(UTC))
        except ReadingRejected as exc:
            self._reject(device_id, exc)
            return 0
        except SunledgerError as exc:
            logger.error("message on %s not logged: %s", topic, exc.detail)
            raise
        self.stats.accepted_readings += result.accepted
        if self.after_commit is not None:
            self.after_commit()
        return result.accepted

    def _reject(self, device_id: str | None, exc: ReadingRejected) -> None:
        self.stats.rejected_messages += 1
        self.stats.rejections[exc.code] = self.stats.rejections.get(exc.code, 0) + 1
        logger.warning("rejected (%s): %s", exc.code, exc.detail)
        if device_id is not None:
            answer = json.dumps({"error": "ReadingRejected", "detail": exc.detail, **exc.extra()})
            rejections = self.topic.replace("+", device_id).rsplit("/", 1)[0] + "/rejections"
            self.client.publish(rejections, answer, qos=0)

    def run(self, *, duration: float | None = None) -> SubscriberStats:
        """Connect (retrying with backoff) and serve until stopped, or for ``duration`` seconds."""
        delay = 1.0
        while True:
            try:
                self.client.connect(self.host, self.port, keepalive=30)
                break
            except OSError as exc:
                logger.warning(
                    "MQTT broker %s:%s unreachable (%s); retry in %.0f s",
                    self.host,
                    self.port,
                    exc,
                    delay,
                )
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
        if duration is None:
            self.client.loop_forever(retry_first_connection=True)
            return self.stats
        self.client.loop_start()
        try:
            time.sleep(duration)
        finally:
            self.client.disconnect()
            self.client.loop_stop()
        return self.stats

    def start(self) -> None:
        """Run in a background thread (tests, the demo)."""
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
