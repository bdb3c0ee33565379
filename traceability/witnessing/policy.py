"""A verifier's witness policy, and checking a cosigned checkpoint against it.

The policy is the ``witnesses`` section of a ``sunledger-trust/1`` file::

    "witnesses": {"quorum": 1, "keys": [
        {"name": "bureau.example/witness", "vkey": "bureau.example/witness+1a2b3c4d+BA...",
         "label": "City Market Supervision Bureau"}]}

``vkey`` is a C2SP tlog-cosignature verifier key (signature type 0x04); ``name``,
when given, must be the vkey's key name. A checkpoint *meets* the policy when at
least ``quorum`` distinct pinned witnesses cosigned it validly. A cosignature line
that names a pinned key but fails to verify makes the whole note fail (as
c2sp.org/signed-note asks); lines by keys not pinned are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traceability.errors import Invalid, VerificationError
from traceability.witnessing.cosignature import (
    Cosignature,
    CosignatureVerifier,
    signature_lines,
)


@dataclass(frozen=True)
class PinnedWitness:
    """One witness a verifier trusts: its key and what to call it."""

    verifier: CosignatureVerifier
    label: str

    @property
    def name(self) -> str:
        return self.verifier.name


@dataclass(frozen=True)
class WitnessPolicy:
    """``quorum`` of ``witnesses`` must cosign. A quorum of 0 asks for nothing."""

    quorum: int
    witnesses: tuple[PinnedWitness, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.quorum <= len(self.witnesses):
            raise Invalid(
                f"witness quorum {self.quorum} must be between 0 and the "
                f"{len(self.witnesses)} witness key(s) given"
            )
        ids = [(w.name, w.verifier.key_id) for w in self.witnesses]
        if len(set(ids)) != len(ids):
            raise Invalid("the same witness key is listed twice")

    @classmethod
    def of_vkeys(
        cls, vkeys: Sequence[str], quorum: int | None = None, labels: Sequence[str] = ()
    ) -> WitnessPolicy:
        """From verifier keys (quorum default: all of them); Invalid names a bad key."""
        pinned = []
        for number, vkey in enumerate(vkeys):
            try:
                verifier = CosignatureVerifier.from_vkey(vkey)
            except VerificationError as exc:
                raise Invalid(f"witness key {number + 1}: {exc.detail}") from exc
            label = labels[number] if number < len(labels) else verifier.name
            pinned.append(PinnedWitness(verifier, label))
        return cls(len(pinned) if quorum is None else quorum, tuple(pinned))


@dataclass(frozen=True)
class WitnessVerdict:
    """Who cosigned a checkpoint, and whether that meets the policy."""

    policy: WitnessPolicy
    cosigned: tuple[tuple[PinnedWitness, Cosignature], ...] = field(default=())

    @property
    def met(self) -> bool:
        return len(self.cosigned) >= self.policy.quorum

    @property
    def labels(self) -> list[str]:
        return [witness.label for witness, _ in self.cosigned]

    def summary(self) -> str:
        """``witnessed by A and 1 other (quorum 2 of 3)``, or what is missing."""
        labels = self.labels
        if not labels:
            who = "witnessed by no pinned witness"
        elif len(labels) == 1:
            who = f"witnessed by {labels[0]}"
        else:
            others = len(labels) - 1
            who = f"witnessed by {labels[0]} and {others} other{'s' if others > 1 else ''}"
        quorum = f"quorum {self.policy.quorum} of {len(self.policy.witnesses)}"
        return f"{who} ({quorum}{'' if self.met else ', NOT met'})"


def check_cosignatures(note: str, policy: WitnessPolicy) -> WitnessVerdict:
    """Verify every pinned witness's cosignature on a signed checkpoint note.

    The log's own signature is not checked here (verify it first). Raises
    :class:`VerificationError` when a line by a pinned key does not verify.
    """
    body, lines = signature_lines(note)
    found: list[tuple[PinnedWitness, Cosignature]] = []
    for witness in policy.witnesses:
        mine = [line for line in lines if witness.verifier.matches(line)]
        for line in mine:
            cosignature = witness.verifier.verify(body, line)
            if not any(w is witness for w, _ in found):
                found.append((witness, cosignature))
    return WitnessVerdict(policy, tuple(found))


def policy_from_trust(document: Any, where: str = "trust file") -> WitnessPolicy:
    """The witness policy of a ``sunledger-trust/1`` document (its ``witnesses`` section)."""
    if not isinstance(document, dict):
        raise Invalid(f"{where}: expected a JSON object")
    section = document.get("witnesses")
    if section is None:
        return WitnessPolicy(0)
    if not isinstance(section, dict):
        raise Invalid(f"{where}: witnesses must be an object with quorum and keys")
    keys = section.get("keys", [])
    quorum = section.get("quorum")
    if not isinstance(keys, list):
        raise Invalid(f"{where}: witnesses.keys must be a list")
    if quorum is not None and (isinstance(quorum, bool) or not isinstance(quorum, int)):
        raise Invalid(f"{where}: witnesses.quorum must be an integer")
    pinned = []
    for number, entry in enumerate(keys):
        at = f"{where}: witnesses.keys[{number}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("vkey"), str):
            raise Invalid(f"{at}: expected an object with a vkey")
        try:
            verifier = CosignatureVerifier.from_vkey(entry["vkey"])
        except VerificationError as exc:
            raise Invalid(f"{at}.vkey: {exc.detail}") from exc
        name = entry.get("name", verifier.name)
        if name != verifier.name:
            raise Invalid(f"{at}.name: {name!r} is not the vkey's name {verifier.name!r}")
        label = entry.get("label", verifier.name)
        if not isinstance(label, str) or not label.strip():
            raise Invalid(f"{at}.label: expected a non-empty string")
        pinned.append(PinnedWitness(verifier, label))
    try:
        return WitnessPolicy(len(pinned) if quorum is None else quorum, tuple(pinned))
    except Invalid as exc:
        raise Invalid(f"{where}: {exc.detail}") from exc


def read_trust_witnesses(path: Path) -> WitnessPolicy:
    """The witness policy of a trust file on disk."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise Invalid(f"{path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise Invalid(f"{path}: not JSON ({exc})") from exc
    return policy_from_trust(document, str(path))


def policy_json(policy: WitnessPolicy) -> dict[str, Any]:
    """The ``witnesses`` section of a trust file for this policy."""
    return {
        "quorum": policy.quorum,
        "keys": [
            {"name": w.name, "vkey": w.verifier.vkey(), "label": w.label} for w in policy.witnesses
        ],
    }
