"""The Solidity side: reproducible builds of contracts/ and decoding of their reverts.

Build: py-solc-x ``compile_standard`` with fixed settings and stable source unit names
(``contracts/<File>.sol``), so the artifacts committed in ``contracts/build/`` can be
rebuilt byte for byte. The compiler is a native ``solc`` of exactly ``SOLC_VERSION`` when
one is on ``PATH``, else the npm ``solc`` package (solcjs) driven by
``hardhat_local/solc-wrapper.js``; ``solcx.install_solc`` is never used (it needs the
internet). Both produce the same bytecode: the metadata records the compiler version
without its platform suffix, and ``bytecodeHash`` is ``"none"``.

Reverts: eth-tester, Hardhat and anvil each surface a custom-error revert in their own
way; ``revert_data_from_exception`` digs the raw revert bytes out of any of them and
``decode_custom_error`` names the error and its arguments from the ABI.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import solcx
from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from solcx.exceptions import SolcError

from traceability.errors import Invalid

__all__ = [
    "BUILD_DIR",
    "COMPILER_SETTINGS",
    "CONTRACTS_DIR",
    "SOLC_VERSION",
    "ContractArtifact",
    "build_contracts",
    "decode_custom_error",
    "load_artifact",
    "log_id_for",
    "revert_data_from_exception",
    "solc_binary",
]

_REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACTS_DIR = _REPO_ROOT / "contracts"
"""Solidity sources (``*.sol``), one level deep."""
BUILD_DIR = CONTRACTS_DIR / "build"
"""Committed build artifacts, one ``<ContractName>.json`` per contract of ``CONTRACTS_DIR``."""
HARDHAT_DIR = _REPO_ROOT / "hardhat_local"
SOLC_WRAPPER = HARDHAT_DIR / "solc-wrapper.js"

SOLC_VERSION = "0.8.37"
"""The only compiler version the committed artifacts are built with."""

COMPILER_SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "cancun",
    # No IPFS/Swarm hash of the metadata in the bytecode: comments and whitespace do not
    # change the bytecode, and the build does not depend on byte-identical checkouts.
    "metadata": {"bytecodeHash": "none"},
    "outputSelection": {
        "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata"]}
    },
}
"""Standard-JSON ``settings`` of every build (a fresh copy is used each time)."""

_VERSION_RE = re.compile(r"Version:\s*(\d+\.\d+\.\d+)(?:\S*?)(\+commit\.[0-9a-f]+)?")
_BUILTIN_ERRORS: dict[bytes, tuple[str, list[dict[str, Any]]]] = {
    bytes.fromhex("08c379a0"): ("Error", [{"name": "message", "type": "string"}]),
    bytes.fromhex("4e487b71"): ("Panic", [{"name": "code", "type": "uint256"}]),
}
# Hex runs and labelled revert data in error messages (Hardhat: "return data: 0x...").
_HEX_RE = re.compile(r"0x[0-9a-fA-F]+")
_RETURN_DATA_RE = re.compile(r"(?:return data|revert data|data)[:=\s'\"]+(0x[0-9a-fA-F]*)")
# eth-tester quotes the revert bytes as a Python literal: "execution reverted: b'\\xe9\\x01...'".
_BYTES_LITERAL_RE = re.compile(r"b'(?:[^'\\]|\\.)*'" + r'|b"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class ContractArtifact:
    """A compiled contract as committed in ``contracts/build/<name>.json``."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    """Creation bytecode, ``0x``-prefixed hex."""
    deployed_bytecode: str
    """Runtime bytecode, ``0x``-prefixed hex."""
    compiler_version: str
    """E.g. ``0.8.37+commit.f401782d``."""
    settings: dict[str, Any]
    metadata: str
    """The compiler's metadata JSON, as a string."""


def load_artifact(name: str = "CheckpointAnchor", build_dir: Path = BUILD_DIR) -> ContractArtifact:
    """Read the artifact of contract ``name`` from ``build_dir``.

    Raises ``Invalid`` when the file is missing or is not an artifact.
    """
    path = build_dir / f"{name}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Invalid(
            f"no build artifact for contract {name!r} at {path}: run `sunledger contracts build`"
        ) from None
    except (OSError, ValueError) as exc:
        raise Invalid(f"cannot read the build artifact {path}: {exc}") from exc
    try:
        return ContractArtifact(
            name=str(raw["contractName"]),
            abi=list(raw["abi"]),
            bytecode=str(raw["bytecode"]),
            deployed_bytecode=str(raw["deployedBytecode"]),
            compiler_version=str(raw["compiler"]),
            settings=dict(raw["settings"]),
            metadata=str(raw["metadata"]),
        )
    except (KeyError, TypeError) as exc:
        raise Invalid(f"{path} is not a contract build artifact (missing {exc})") from exc


def log_id_for(origin: str) -> bytes:
    """Return the on-chain ``logId`` of a log: SHA-256 of its checkpoint origin line."""
    return hashlib.sha256(origin.encode("utf-8")).digest()


# --------------------------------------------------------------------------- compiler


def _solc_version_of(binary: Path | str) -> str | None:
    """``0.8.37+commit.f401782d`` from ``binary --version``, or None if it does not answer."""
    try:
        result = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION_RE.search(result.stdout)
    if result.returncode != 0 or match is None:
        return None
    return match.group(1) + (match.group(2) or "")


def solc_binary() -> Path:
    """Return the compiler to build with.

    A native ``solc`` on ``PATH`` if its version is ``SOLC_VERSION``; otherwise the node
    wrapper ``hardhat_local/solc-wrapper.js`` around the npm ``solc`` package. Raises
    ``Invalid`` when neither is usable, naming the command that installs the npm package.
    """
    native = shutil.which("solc")
    if native is not None:
        version = _solc_version_of(native)
        if version is not None and version.split("+")[0] == SOLC_VERSION:
            return Path(native)
    if not (HARDHAT_DIR / "node_modules" / "solc" / "package.json").is_file():
        raise Invalid(
            f"no solc {SOLC_VERSION}: neither a native solc of that version on PATH nor the npm "
            f"package in {HARDHAT_DIR / 'node_modules'}; run `cd hardhat_local && npm ci`"
        )
    if shutil.which("node") is None:
        raise Invalid(f"node is not on PATH; it is needed to run {SOLC_WRAPPER}")
    if not SOLC_WRAPPER.is_file():
        raise Invalid(f"the solc wrapper {SOLC_WRAPPER} is missing")
    return SOLC_WRAPPER


def _standard_json_input(contracts_dir: Path) -> dict[str, Any]:
    sources = sorted(contracts_dir.glob("*.sol"))
    if not sources:
        raise Invalid(f"no Solidity sources (*.sol) in {contracts_dir}")
    return {
        "language": "Solidity",
        # Stable unit names, independent of where the checkout lives: they end up in the
        # metadata and so in the committed artifacts.
        "sources": {
            f"contracts/{path.name}": {"content": path.read_text(encoding="utf-8")}
            for path in sources
        },
        "settings": json.loads(json.dumps(COMPILER_SETTINGS)),
    }


def build_contracts(out_dir: Path = BUILD_DIR, contracts_dir: Path = CONTRACTS_DIR) -> list[Path]:
    """Compile every ``contracts_dir/*.sol`` and write one artifact per contract defined there.

    Artifacts are ``out_dir/<ContractName>.json`` (sorted keys, indent 2, trailing newline)
    holding ``contractName``, ``sourceName``, ``abi``, ``bytecode``, ``deployedBytecode``
    (both ``0x``-prefixed), ``compiler``, ``settings`` and ``metadata``. Imported library
    contracts (OpenZeppelin) get no artifact. Returns the paths written, sorted. Raises
    ``Invalid`` on a compiler error or two contracts of the same name.
    """
    binary = solc_binary()
    version = _solc_version_of(binary)
    if version is None or version.split("+")[0] != SOLC_VERSION:
        raise Invalid(f"{binary} is not solc {SOLC_VERSION} (it reports {version!r})")
    compiler_input = _standard_json_input(contracts_dir)
    try:
        output = cast(dict[str, Any], solcx.compile_standard(compiler_input, solc_binary=binary))
    except SolcError as exc:
        raise Invalid(f"compilation failed:\n{exc}") from exc

    artifacts: dict[str, dict[str, Any]] = {}
    for source_name in compiler_input["sources"]:
        for contract_name, compiled in sorted(
            output.get("contracts", {}).get(source_name, {}).items()
        ):
            if contract_name in artifacts:
                raise Invalid(
                    f"contract {contract_name} is defined in both "
                    f"{artifacts[contract_name]['sourceName']} and {source_name}"
                )
            artifacts[contract_name] = {
                "contractName": contract_name,
                "sourceName": source_name,
                "abi": compiled["abi"],
                "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
                "compiler": version,
                "settings": compiler_input["settings"],
                "metadata": compiled["metadata"],
            }

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for contract_name, artifact in sorted(artifacts.items()):
        path = out_dir / f"{contract_name}.json"
        path.write_text(json.dumps(artifact, sort_keys=True, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


# --------------------------------------------------------------------------- reverts


def _type_string(param: dict[str, Any]) -> str:
    """Canonical ABI type of a parameter, tuples spelled out as ``(t1,t2)[]``."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_type_string(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def _format_value(value: object, param: dict[str, Any]) -> str:
    """One decoded argument, shaped by its ABI parameter (arrays and tuples recursively)."""
    kind = str(param["type"])
    if kind.endswith("]") and isinstance(value, (list, tuple)):
        element = {**param, "type": kind[: kind.rindex("[")]}
        return "[" + ", ".join(_format_value(v, element) for v in value) + "]"
    if kind == "tuple" and isinstance(value, (list, tuple)):
        components = list(param.get("components", []))
        parts = (_format_value(v, c) for v, c in zip(value, components, strict=True))
        return "[" + ", ".join(parts) + "]"
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if kind == "address" and isinstance(value, str):
        return to_checksum_address(value)
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _as_bytes(data: bytes | str) -> bytes | None:
    if isinstance(data, bytes):
        return data
    text = data.strip()
    if text[:2].lower() == "0x":
        text = text[2:]
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def decode_custom_error(abi: Sequence[dict[str, Any]], revert_data: bytes | str) -> str | None:
    """Name the revert in ``revert_data`` from the ``error`` entries of ``abi``.

    ``revert_data`` is raw bytes or hex (with or without ``0x``). Returns e.g.
    ``"CheckpointAnchorTreeSizeNotIncreasing(logId=0x..., latestTreeSize=5, treeSize=5)"``;
    Solidity's built-in ``Error(string)`` and ``Panic(uint256)`` are named too. Returns
    ``None`` when the data is shorter than a selector or no error has its selector; if the
    selector matches but the arguments do not decode, the raw arguments are shown.
    """
    data = _as_bytes(revert_data)
    if data is None or len(data) < 4:
        return None
    selector, payload = data[:4], data[4:]
    candidates = dict(_BUILTIN_ERRORS)
    for entry in abi:
        if entry.get("type") != "error":
            continue
        inputs = list(entry.get("inputs", []))
        signature = f"{entry['name']}({','.join(_type_string(p) for p in inputs)})"
        candidates[keccak(text=signature)[:4]] = (str(entry["name"]), inputs)
    if selector not in candidates:
        return None
    name, inputs = candidates[selector]
    try:
        values = abi_decode([_type_string(p) for p in inputs], payload)
    except (DecodingError, ValueError, OverflowError):
        return f"{name}(<undecodable arguments 0x{payload.hex()}>)"
    args = ", ".join(
        f"{p.get('name') or f'arg{i}'}={_format_value(v, p)}"
        for i, (p, v) in enumerate(zip(inputs, values, strict=True))
    )
    return f"{name}({args})"


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _revert_data_in_text(text: str) -> bytes | None:
    literal = _BYTES_LITERAL_RE.search(text)
    if literal is not None:
        try:
            value = ast.literal_eval(literal.group(0))
        except (ValueError, SyntaxError):
            value = None
        if isinstance(value, bytes):
            return value
    labelled = _RETURN_DATA_RE.search(text)
    if labelled is not None:
        return _as_bytes(labelled.group(1))
    # Otherwise the hex run shaped like revert data: a selector plus whole 32-byte words
    # (this skips addresses, 40 digits, and hashes, 64). The last such run wins.
    shaped = [m.group(0) for m in _HEX_RE.finditer(text) if (len(m.group(0)) - 2) % 64 == 8]
    return _as_bytes(shaped[-1]) if shaped else None


def _revert_data_in_value(value: object) -> bytes | None:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        stripped = value.strip()
        if _HEX_RE.fullmatch(stripped) and len(stripped) % 2 == 0:
            return _as_bytes(stripped)
        return _revert_data_in_text(value)
    if isinstance(value, dict):
        for key in ("data", "returnData", "result"):
            found = _revert_data_in_value(value.get(key))
            if found is not None:
                return found
        nested = value.get("error")
        if nested is not None:
            return _revert_data_in_value(nested)
    if isinstance(value, (list, tuple)):
        for item in value:
            found = _revert_data_in_value(item)
            if found is not None:
                return found
    return None


def revert_data_from_exception(exc: BaseException) -> bytes | None:
    """Dig the raw revert bytes out of an exception raised by a reverted call or transaction.

    Understands eth-tester's ``TransactionFailed`` (revert bytes as an argument), web3's
    ``ContractLogicError``/``ContractCustomError`` (``.data``, hex or a JSON-RPC error dict)
    and messages that quote the data (Hardhat's ``return data: 0x...``), following
    ``__cause__``/``__context__``. Returns ``None`` when no revert data is found.
    """
    for link in _exception_chain(exc):
        data = getattr(link, "data", None)
        if data is not None:
            found = _revert_data_in_value(data)
            if found is not None:
                return found
        for arg in link.args:
            found = _revert_data_in_value(arg)
            if found is not None:
                return found
    return None
