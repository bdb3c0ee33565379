"""Revert data is found however a backend surfaces it, and decoded against the ABI."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_tester.exceptions import TransactionFailed
from eth_utils.crypto import keccak
from web3.exceptions import ContractCustomError, ContractLogicError

from traceability.chain.contracts import decode_custom_error, log_id_for, revert_data_from_exception

LOG = log_id_for("errors.example/log")
SELECTOR = keccak(text="CheckpointAnchorTreeSizeNotIncreasing(bytes32,uint64,uint64)")[:4]
DATA = SELECTOR + encode(["bytes32", "uint64", "uint64"], [LOG, 5, 5])
DECODED = (
    f"CheckpointAnchorTreeSizeNotIncreasing(logId=0x{LOG.hex()}, latestTreeSize=5, treeSize=5)"
)


def test_decode_bytes_and_hex(artifact) -> None:
    assert decode_custom_error(artifact.abi, DATA) == DECODED
    assert decode_custom_error(artifact.abi, "0x" + DATA.hex()) == DECODED
    assert decode_custom_error(artifact.abi, DATA.hex().upper()) == DECODED


def test_decode_unknown_short_and_malformed(artifact) -> None:
    assert decode_custom_error(artifact.abi, b"") is None
    assert decode_custom_error(artifact.abi, b"\xe9\x01r") is None
    assert decode_custom_error(artifact.abi, b"\xde\xad\xbe\xef" + bytes(32)) is None
    assert decode_custom_error(artifact.abi, "not hex") is None
    assert decode_custom_error(artifact.abi, SELECTOR + b"\x01") == (
        "CheckpointAnchorTreeSizeNotIncreasing(<undecodable arguments 0x01>)"
    )


def test_decode_builtin_errors(artifact) -> None:
    error = bytes.fromhex("08c379a0") + encode(["string"], ["no"])
    assert decode_custom_error(artifact.abi, error) == "Error(message='no')"
    panic = bytes.fromhex("4e487b71") + encode(["uint256"], [0x11])
    assert decode_custom_error(artifact.abi, panic) == "Panic(code=17)"


def test_decode_tuple_parameters() -> None:
    abi = [
        {
            "type": "error",
            "name": "Bad",
            "inputs": [
                {
                    "name": "pair",
                    "type": "tuple",
                    "components": [{"name": "a", "type": "uint8"}, {"name": "b", "type": "bytes"}],
                },
                {"name": "", "type": "address[]"},
            ],
        }
    ]
    selector = keccak(text="Bad((uint8,bytes),address[])")[:4]
    data = selector + encode(["(uint8,bytes)", "address[]"], [(7, b"\x01"), ["0x" + "11" * 20]])
    assert decode_custom_error(abi, data) == (
        "Bad(pair=[7, 0x01], arg1=[0x1111111111111111111111111111111111111111])"
    )


def test_eth_tester_transaction_failed_with_bytes() -> None:
    assert revert_data_from_exception(TransactionFailed(DATA)) == DATA


def test_eth_tester_message_quoting_bytes() -> None:
    exc = TransactionFailed(f"execution reverted: {DATA!r}")
    assert revert_data_from_exception(exc) == DATA


def test_web3_custom_error_data() -> None:
    # anvil: ContractCustomError('0x...') with the data as `.data` too.
    hexdata = "0x" + DATA.hex()
    assert revert_data_from_exception(ContractCustomError(hexdata, data=hexdata)) == DATA
    assert revert_data_from_exception(ContractLogicError("execution reverted", data=hexdata)) == (
        DATA
    )
    rpc_error = {"code": 3, "message": "execution reverted", "data": hexdata}
    assert revert_data_from_exception(ContractLogicError("x", data=rpc_error)) == DATA


def test_hardhat_message_with_return_data() -> None:
    sender = "0x" + "ab" * 20
    message = (
        f"Error: VM Exception while processing transaction: reverted with an unrecognized "
        f"custom error (return data: 0x{DATA.hex()}) from {sender}"
    )
    assert revert_data_from_exception(ContractLogicError(message)) == DATA


def test_bare_hex_in_text_skips_addresses_and_hashes() -> None:
    message = f"sender 0x{'ab' * 20} tx 0x{'cd' * 32} reverted 0x{DATA.hex()}"
    assert revert_data_from_exception(ValueError(message)) == DATA


def test_chained_exceptions_are_followed() -> None:
    try:
        try:
            raise TransactionFailed(DATA)
        except TransactionFailed as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert revert_data_from_exception(outer) == DATA


def test_no_revert_data() -> None:
    assert revert_data_from_exception(ValueError("out of gas")) is None
    assert revert_data_from_exception(ContractLogicError("execution reverted")) is None
