"""The demo city's witness: the "City Market Supervision Bureau", run beside the log.

In a real city the bureau runs ``sunledger witness serve`` on its own machine with
its own key; the demo runs the same witness in a thread of the demo process, with
its key and crash-safe state in the data directory, and configures the log to ask
it for a cosignature of every checkpoint (quorum 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

from traceability.settings import Settings, WitnessEndpoint
from traceability.transparency.keys import load_signer
from traceability.witnessing.cosignature import (
    CosignatureSigner,
    read_witness_key_file,
    write_witness_key_file,
)
from traceability.witnessing.server import make_server, serve_in_thread
from traceability.witnessing.state import WitnessState
from traceability.witnessing.witness import Witness

WITNESS_KEY_FILE = "demo-witness.key"
WITNESS_STATE_DIR = "demo-witness"
WITNESS_NAME = "market-supervision.demo/witness"
WITNESS_LABEL = "City Market Supervision Bureau"


@dataclass
class DemoWitness:
    server: ThreadingHTTPServer
    url: str
    signer: CosignatureSigner

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _key(data_dir: Path) -> CosignatureSigner:
    path = data_dir / WITNESS_KEY_FILE
    if not path.exists():
        write_witness_key_file(path, CosignatureSigner.generate(WITNESS_NAME))
    return read_witness_key_file(path)


def start_witness(settings: Settings, host: str = "127.0.0.1", port: int = 0) -> DemoWitness:
    """Start the bureau's witness for this log on a thread (port 0: any free one)."""
    signer = _key(settings.data_dir)
    log_key = load_signer(settings).verifier()
    witness = Witness(
        signer,
        {settings.log_origin: [log_key]},
        WitnessState(settings.data_dir / WITNESS_STATE_DIR),
    )
    server = make_server(witness, host, port)
    serve_in_thread(server)
    return DemoWitness(server, f"http://{host}:{server.server_address[1]}", signer)


def with_witness(settings: Settings, witness: DemoWitness) -> Settings:
    """These settings, with the bureau as the log's one witness (quorum 1)."""
    endpoint = WitnessEndpoint(
        url=witness.url, vkey=witness.signer.verifier.vkey(), label=WITNESS_LABEL
    )
    return settings.model_copy(update={"witnesses": [endpoint], "witness_quorum": 1})


def reset(data_dir: Path) -> list[str]:
    """Remove the witness's key and state (``sunledger demo --reset``)."""
    removed = []
    key = data_dir / WITNESS_KEY_FILE
    if key.exists():
        key.unlink()
        removed.append(WITNESS_KEY_FILE)
    state = data_dir / WITNESS_STATE_DIR
    if state.is_dir():
        for leftover in state.glob("witness-state.db*"):
            leftover.unlink()
        try:
            state.rmdir()
            removed.append(WITNESS_STATE_DIR + "/")
        except OSError:
            pass  # someone else's file is in there: leave it
    return removed
