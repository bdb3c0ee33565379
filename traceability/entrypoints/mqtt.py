"""``sunledger mqtt``: probe readings from MQTT, through the same checks as HTTP.

Subscribes to ``sunledger/probes/+/readings`` with QoS 1 on a persistent
session and acknowledges a message only after its readings are committed (or
refused), so a crash before the commit means the broker delivers it again; a
redelivered message that was already logged is refused as a replay. Refusals
are published to ``sunledger/probes/{device_id}/rejections`` for the device.

Messages are settled one at a time, in the order they arrived, by one thread
(the network loop only queues them, so the broker connection stays alive):

- a poison message (any payload the parser cannot read, or readings a check
  refuses) is refused with its code, logged, and acknowledged: it never comes back;
- while the database is unreachable (any outage length) the message is held, not
  acknowledged, and retried with a backoff of 0.5 s doubling to 30 s; the ones
  after it wait behind it, so per-device sequence order is kept. The broker keeps
  what arrives meanwhile in the session (up to its ``max_queued_messages``);
- if the broker connection drops, messages of the old connection that were not
  yet settled are left to the broker, which delivers them again on the resumed
  session;
- an error nobody foresaw (a bug) is retried a few times, then the message is
  written to the dead-letter file (when one is configured) and acknowledged, so one
  message cannot stall intake.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.orm import Session, sessionmaker

from traceability.devices.intake import MALFORMED, ProbeIntake, ReadingRejected, parse_submission
from traceability.errors import SunledgerError
from traceability.storage.after_commit import after_commit as queue_after_commit
from traceability.storage.db import database_unreachable, transaction

logger = logging.getLogger("sunledger.mqtt")


@dataclass
class SubscriberStats:
    messages: int = 0
    accepted_readings: int = 0
    rejected_messages: int = 0
    rejections: dict[str, int] = field(default_factory=dict)
    connects: int = 0
    outage_retries: int = 0
    """Attempts that found the database unreachable (the message was held, not acked)."""
    left_to_broker: int = 0
    """Messages of a dropped connection not settled: the broker delivers them again."""
    dead_lettered: int = 0


RETRY_FIRST, RETRY_MAX = 0.5, 30.0
UNFORESEEN_ATTEMPTS = 5


@dataclass(frozen=True)
class _Delivery:
    topic: str
    payload: bytes
    mid: int
    qos: int
    connection: int


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
        after_commit: Callable[[], object] | None = None,
        dead_letter: Path | None = None,
        retry_delays: tuple[float, float] = (RETRY_FIRST, RETRY_MAX),
    ) -> None:
        self.intake = intake
        self.sessions = sessions
        self.host, self.port, self.topic = host, port, topic
        self.after_commit = after_commit
        self.dead_letter = dead_letter
        self.retry_delays = retry_delays
        self.stats = SubscriberStats()
        self.subscribed = threading.Event()
        self._inbox: queue.Queue[_Delivery] = queue.Queue()
        self._connection = 0  # counts connects; a message is acked only on its own connection
        self._stopping = threading.Event()
        self._committed = threading.Event()
        self._threads: list[threading.Thread] = []
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            manual_ack=True,
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if getattr(reason, "is_failure", False):
            logger.warning("MQTT connect refused: %s", reason)
            return
        self._connection += 1
        self.stats.connects += 1
        logger.info("connected to %s:%s, subscribing to %s", self.host, self.port, self.topic)
        client.subscribe(self.topic, qos=1)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        # Unsettled messages of this connection are the broker's again (persistent session).
        self._connection += 1
        if not self._stopping.is_set():
            logger.warning("MQTT connection lost (%s); reconnecting", reason)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: Any, _codes: Any, _p: Any) -> None:
        self.subscribed.set()

    def _on_message(self, _client: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        # Only queued here: the network loop must keep answering the broker during an outage.
        self._inbox.put(
            _Delivery(
                message.topic, bytes(message.payload), message.mid, message.qos, self._connection
            )
        )

    # -- settling, one message at a time, in order -----------------------------------

    def _settle_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                delivery = self._inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            self._settle(delivery)

    def _settle(self, delivery: _Delivery) -> None:
        self.stats.messages += 1
        delay, unforeseen = self.retry_delays[0], 0
        while True:
            if delivery.connection != self._connection:
                self.stats.left_to_broker += 1
                return
            try:
                self.handle(delivery.topic, delivery.payload)
                break
            except Exception as exc:
                if database_unreachable(exc):
                    self.stats.outage_retries += 1
                    logger.warning(
                        "database unreachable (%s); message on %s held, retry in %.1f s",
                        type(exc).__name__,
                        delivery.topic,
                        delay,
                    )
                else:
                    unforeseen += 1
                    logger.error(
                        "message on %s failed (attempt %d of %d)",
                        delivery.topic,
                        unforeseen,
                        UNFORESEEN_ATTEMPTS,
                        exc_info=exc,
                    )
                    if unforeseen >= UNFORESEEN_ATTEMPTS and self._dead_letter(delivery, exc):
                        break
                if self._stopping.wait(delay):
                    return  # not acknowledged: the broker delivers it again
                delay = min(delay * 2, self.retry_delays[1])
        if delivery.connection == self._connection:
            self.client.ack(delivery.mid, delivery.qos)
        else:
            self.stats.left_to_broker += 1  # settled, but its redelivery is refused as a replay

    def _dead_letter(self, delivery: _Delivery, exc: Exception) -> bool:
        """Keep a message nothing can log in the dead-letter file; True once it is on disk."""
        if self.dead_letter is None:
            return False
        line = json.dumps(
            {
                "at": datetime.now(UTC).isoformat(),
                "topic": delivery.topic,
                "payload_base64": base64.b64encode(delivery.payload).decode(),
                "error": f"{type(exc).__name__}: {exc}"[:500],
            }
        )
        try:
            self.dead_letter.parent.mkdir(parents=True, exist_ok=True)
            with self.dead_letter.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
                out.flush()
                os.fsync(out.fileno())
        except OSError as error:
            logger.error("cannot write the dead-letter file %s: %s", self.dead_letter, error)
            return False
        self.stats.dead_lettered += 1
        logger.error("message on %s moved to %s", delivery.topic, self.dead_letter)
        return True

    def _after_commit_loop(self) -> None:
        """Anchoring is asked for here, off the message path: a stalled chain never holds
        intake (many commits while one request runs become one request)."""
        while not self._stopping.is_set():
            if not self._committed.wait(timeout=0.2):
                continue
            self._committed.clear()
            if self.after_commit is None:
                continue
            try:
                self.after_commit()
            except Exception as exc:  # the readings are committed; the beat anchors later
                logger.warning("anchoring postponed: %s", exc)

    @property
    def running(self) -> bool:
        """Both of its threads are alive (tests, health)."""
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    def _start_threads(self) -> None:
        self._stopping.clear()
        for name, target in (
            ("mqtt-settle", self._settle_loop),
            ("mqtt-after-commit", self._after_commit_loop),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _stop_threads(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=60)
        self._threads.clear()

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
                if result.accepted:  # wake the follow-up thread once these are committed
                    queue_after_commit(session, self._committed.set)
        except ReadingRejected as exc:
            self._reject(device_id, exc)
            return 0
        except SunledgerError as exc:
            logger.error("message on %s not logged: %s", topic, exc.detail)
            raise
        self.stats.accepted_readings += result.accepted
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
        self._start_threads()
        try:
            if duration is None:
                self.client.loop_forever(retry_first_connection=True)
                return self.stats
            self.client.loop_start()
            try:
                time.sleep(duration)
            finally:
                self.client.disconnect()
                self.client.loop_stop()
        finally:
            self._stop_threads()
        return self.stats

    def start(self) -> None:
        """Run in a background thread (tests, the demo)."""
        self._start_threads()
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self._stopping.set()
        self.client.disconnect()
        self.client.loop_stop()
        self._stop_threads()
