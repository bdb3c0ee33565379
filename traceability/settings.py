"""Settings, read from the environment (prefix ``SUNLEDGER_``) when asked for.

Nothing here is read at import time: callers build a ``Settings`` and pass it on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ORIGIN = "sunledger.local/log"


def default_data_dir() -> Path:
    """The per-user data directory used by the embedded default."""
    return Path(platformdirs.user_data_dir("sunledger", appauthor=False))


class WitnessEndpoint(BaseModel):
    """A witness the log asks for cosignatures: where it listens, its verifier key
    (C2SP tlog-cosignature, type 0x04) and the name people know it by."""

    url: str = Field(min_length=1)
    vkey: str = Field(min_length=1)
    label: str = ""

    @field_validator("vkey")
    @classmethod
    def _vkey_parses(cls, value: str) -> str:
        from traceability.errors import VerificationError
        from traceability.witnessing.cosignature import CosignatureVerifier

        try:
            CosignatureVerifier.from_vkey(value)
        except VerificationError as exc:
            raise ValueError(exc.detail) from None
        return value


class ReportContact(BaseModel):
    """Whom the public pages send a diner to: a name, and a phone number or a web address."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, pattern=r"^[0-9+() -]{3,30}$")
    url: str | None = Field(default=None, pattern=r"^(https?://|mailto:)[^\s]{1,300}$")

    @model_validator(mode="after")
    def _reachable(self) -> ReportContact:
        if self.phone is None and self.url is None:
            raise ValueError(f"report contact {self.name!r} needs a phone or a url")
        return self


class Settings(BaseSettings):
    """Every setting of the platform.

    Embedded default: a SQLite file in ``data_dir``. Setting
    ``SUNLEDGER_DATABASE_URL=postgresql+psycopg://...`` switches to PostgreSQL.
    """

    model_config = SettingsConfigDict(env_prefix="SUNLEDGER_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: SecretStr | None = None
    log_origin: str = DEFAULT_ORIGIN
    log_key_name: str = "sunledger-log"
    signing_key_file: Path | None = None

    # The chain the log's checkpoints are anchored on.
    chain: Literal["embedded", "hardhat", "rpc"] = "embedded"
    chain_rpc_url: str = "http://127.0.0.1:8545"
    chain_private_key: SecretStr | None = None
    chain_keystore_file: Path | None = None
    chain_keystore_password: SecretStr | None = None
    anchor_contract: str | None = None
    anchor_confirmations: int = Field(default=0, ge=0, le=1000)
    anchor_interval_seconds: float = Field(default=60.0, gt=0)
    anchor_every_events: int = Field(default=1000, ge=1)
    anchor_gas_limit: int = Field(default=150_000, ge=21_000)

    # Probes: how far a reading's clock may stray, who may register devices, MQTT.
    reading_max_future_seconds: float = Field(default=300.0, ge=0)
    reading_max_age_seconds: float = Field(default=7 * 86_400.0, gt=0)
    # Imported inspections older than this many days are history: they open no alert.
    inspection_alert_window_days: int = Field(default=30, ge=0, le=36_500)
    admin_token: SecretStr | None = None
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_topic: str = "sunledger/probes/+/readings"
    # The subscriber's persistent MQTT session: one id per deployment sharing a broker.
    mqtt_client_id: str = Field(default="sunledger-intake", min_length=1, max_length=64)

    # Logs of long-running processes: JSON lines for collectors, or text for a terminal.
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Celery: unset means eager, in-process tasks (the embedded default).
    broker_url: str | None = None

    # Witnesses (JSON list of {"url", "vkey", "label"}) and how many must cosign a
    # checkpoint for it to count as witnessed (default: all of them).
    witnesses: list[WitnessEndpoint] = Field(default_factory=list)
    witness_quorum: int | None = Field(default=None, ge=0)
    witness_interval_seconds: float = Field(default=30.0, gt=0)
    witness_timeout_seconds: float = Field(default=5.0, gt=0)

    # Where consumers open public pages: the base of the URLs QR codes point to. Unset: the
    # base of the request that asks (scheme, host and port as the client reached us).
    public_base_url: str | None = None
    # Where a diner reports a problem with a premises (a JSON object: district -> contact,
    # "*" for the city's default), and whom to tell when a page's check fails.
    report_contacts: dict[str, ReportContact] = Field(
        default_factory=lambda: {"*": ReportContact(name="12315", phone="12315")}
    )
    verification_contact: ReportContact | None = None

    @field_validator("log_origin")
    @classmethod
    def _origin_is_one_line(cls, value: str) -> str:
        if not value or "\n" in value or value != value.strip():
            raise ValueError("log_origin must be one non-empty line without surrounding spaces")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        url = value.get_secret_value()
        if not url.startswith(("sqlite:", "postgresql+psycopg:", "postgresql:")):
            raise ValueError(
                "database_url must be sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
            )
        if url.startswith("postgresql:"):
            # psycopg 3 is the driver we ship; plain postgresql:// would pick psycopg2.
            url = "postgresql+psycopg:" + url[len("postgresql:") :]
        return SecretStr(url)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``sqlite:///<data_dir>/sunledger.db``."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'sunledger.db'}"

    @property
    def is_embedded(self) -> bool:
        return self.resolved_database_url.startswith("sqlite:")

    @field_validator("anchor_contract")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not (
            len(value) == 42 and value.startswith("0x") and _is_hex(value[2:])
        ):
            raise ValueError("anchor_contract must be a 0x-prefixed 20-byte hex address")
        return value

    @model_validator(mode="after")
    def _chain_account(self) -> Settings:
        # Caught at start-up, naming the settings, rather than at the first anchor.
        if self.chain == "rpc" and (self.chain_private_key is None) == (
            self.chain_keystore_file is None
        ):
            raise ValueError(
                "SUNLEDGER_CHAIN=rpc needs exactly one of SUNLEDGER_CHAIN_PRIVATE_KEY or "
                "SUNLEDGER_CHAIN_KEYSTORE_FILE (the account that sends anchors)"
            )
        if self.chain_keystore_file is not None and self.chain_keystore_password is None:
            raise ValueError(
                "SUNLEDGER_CHAIN_KEYSTORE_FILE is set but SUNLEDGER_CHAIN_KEYSTORE_PASSWORD is not"
            )
        return self

    @model_validator(mode="after")
    def _witness_quorum(self) -> Settings:
        if self.witness_quorum is not None and self.witness_quorum > len(self.witnesses):
            raise ValueError(
                f"SUNLEDGER_WITNESS_QUORUM is {self.witness_quorum} but only "
                f"{len(self.witnesses)} witness(es) are configured in SUNLEDGER_WITNESSES"
            )
        return self

    @property
    def resolved_signing_key_file(self) -> Path:
        """Where the log's Ed25519 signer key lives (default: in ``data_dir``)."""
        return self.signing_key_file or self.data_dir / "log-signing.key"


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True
