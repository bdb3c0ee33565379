"""Which chain the settings describe, with its account and contract."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from eth_account import Account
from sqlalchemy.orm import Session, sessionmaker
from web3 import HTTPProvider, Web3

from traceability.chain import anchor_repository
from traceability.chain.client import AnchorChain, account_from_key
from traceability.chain.embedded import embedded_chain
from traceability.errors import ChainUnavailable, Invalid
from traceability.settings import Settings
from traceability.storage.db import transaction

# Hardhat's first development account: public knowledge, funded on every Hardhat node.
HARDHAT_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
EMBEDDED_JOURNAL = "embedded-chain.jsonl"


def _account_for(settings: Settings) -> str:
    if settings.chain_private_key is not None:
        return settings.chain_private_key.get_secret_value()
    if settings.chain_keystore_file is not None:
        if settings.chain_keystore_password is None:
            raise Invalid("SUNLEDGER_CHAIN_KEYSTORE_PASSWORD is needed to open the keystore")
        try:
            keystore = json.loads(settings.chain_keystore_file.read_text())
            key = Account.decrypt(keystore, settings.chain_keystore_password.get_secret_value())
        except (OSError, ValueError) as exc:
            raise Invalid(f"cannot open keystore {settings.chain_keystore_file}: {exc}") from None
        return "0x" + bytes(key).hex()
    if settings.chain == "hardhat":
        return HARDHAT_DEV_KEY
    raise Invalid("chain 'rpc' needs SUNLEDGER_CHAIN_PRIVATE_KEY or SUNLEDGER_CHAIN_KEYSTORE_FILE")


def open_chain(settings: Settings, sessions: sessionmaker[Session]) -> AnchorChain:
    """The anchor chain, its contract taken from settings or the recorded deployment.

    The embedded chain deploys its contract on first use; other chains need
    ``sunledger chain deploy`` (or ``SUNLEDGER_ANCHOR_CONTRACT``).
    """
    if settings.chain == "embedded":
        embedded = embedded_chain(
            settings.data_dir / EMBEDDED_JOURNAL, gas_limit=settings.anchor_gas_limit
        )
        address = embedded.ensure_deployed()
        _remember(sessions, embedded, address, embedded.deploy_tx or "0x")
        return embedded
    w3 = Web3(HTTPProvider(settings.chain_rpc_url, request_kwargs={"timeout": 10}))
    chain = AnchorChain(
        w3,
        account_from_key(_account_for(settings)),
        name=settings.chain,
        gas_limit=settings.anchor_gas_limit,
    )
    if settings.anchor_contract is not None:
        chain.use_contract(settings.anchor_contract)
        return chain
    try:
        chain_id = chain.chain_id
    except ChainUnavailable:
        return chain  # reads will name the problem; start-up need not fail
    with sessions() as session:
        recorded = anchor_repository.deployment(session, chain_id)
    if recorded is not None:
        chain.use_contract(recorded.contract)
    return chain


def deploy(settings: Settings, sessions: sessionmaker[Session]) -> tuple[AnchorChain, str]:
    """Deploy the anchor contract with our account as admin and anchorer; record it."""
    chain = open_chain(settings, sessions)
    if settings.chain == "embedded":
        assert chain.contract_address is not None
        return chain, chain.contract_address
    signed = chain.sign_deploy()
    tx_hash, complaint = chain.send(signed.raw)
    address = chain.deployed_address(tx_hash)
    if address is None:
        raise Invalid(f"deploying the anchor contract failed: {complaint or 'not mined'}")
    chain.use_contract(address)
    _remember(sessions, chain, address, tx_hash)
    return chain, address


def _remember(
    sessions: sessionmaker[Session], chain: AnchorChain, address: str, tx_hash: str
) -> None:
    with transaction(sessions) as session:
        known = anchor_repository.deployment(session, chain.chain_id)
        if known is not None and known.contract == address:
            return
        outcome = chain.outcome(tx_hash) if tx_hash != "0x" else None
        anchor_repository.record_deployment(
            session,
            chain.chain_id,
            address,
            tx_hash,
            0 if outcome is None else outcome.block_number,
            datetime.now(UTC),
        )
