"""``sunledger witness``: run a C2SP tlog-witness anyone can operate."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from traceability.entrypoints.cli.console import fail
from traceability.errors import SunledgerError
from traceability.transparency.checkpoints import NoteVerifier

witness_app = typer.Typer(
    help="A witness: cosigns a log's checkpoints, never two views of it.", no_args_is_help=True
)
witness_keys_app = typer.Typer(help="Witness keys.", no_args_is_help=True)
witness_app.add_typer(witness_keys_app, name="keys")


@witness_keys_app.command("generate")
def keys_generate(
    out_file: Annotated[Path, typer.Option("--out", help="Key file to create (mode 0600).")],
    name: Annotated[
        str, typer.Option(help="The witness's name in cosignatures, e.g. example.org/witness.")
    ],
) -> None:
    """Create a witness key (Ed25519, cosignature/v1); print its verifier key."""
    from traceability.witnessing.cosignature import CosignatureSigner, write_witness_key_file

    try:
        signer = CosignatureSigner.generate(name)
        write_witness_key_file(out_file, signer)
    except FileExistsError:
        raise fail(f"{out_file} already exists; refusing to overwrite a key") from None
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    except OSError as exc:
        raise fail(f"{out_file}: {exc.strerror}") from None
    sys.stdout.write(signer.verifier.vkey() + "\n")


def parse_log_options(values: list[str]) -> dict[str, list[NoteVerifier]]:
    """``ORIGIN=VKEY`` options as origin → the log's note verifier keys."""
    logs: dict[str, list[NoteVerifier]] = {}
    for value in values:
        origin, sep, vkey = value.partition("=")
        if not sep or not origin or not vkey:
            raise fail(f"--log {value!r}: expected ORIGIN=VKEY")
        try:
            logs.setdefault(origin, []).append(NoteVerifier.from_verifier_key(vkey.strip()))
        except SunledgerError as exc:
            raise fail(f"--log {origin}: {exc.detail}") from None
    return logs


@witness_app.command("serve")
def serve(
    key: Annotated[Path, typer.Option("--key", help="The witness key file (0600).")],
    log: Annotated[
        list[str],
        typer.Option("--log", help="ORIGIN=VKEY of a log to witness (repeatable)."),
    ],
    state: Annotated[
        Path, typer.Option("--state", help="Directory of the witness's crash-safe state.")
    ],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free one).")] = 7380,
) -> None:
    """Serve tlog-witness add-checkpoint until SIGINT or SIGTERM."""
    from traceability.entrypoints.logs import configure
    from traceability.witnessing.cosignature import read_witness_key_file
    from traceability.witnessing.server import make_server
    from traceability.witnessing.state import WitnessState
    from traceability.witnessing.witness import Witness

    configure("text", "INFO")
    logs = parse_log_options(log)
    try:
        signer = read_witness_key_file(key)
        witness = Witness(signer, logs, WitnessState(state))
        server = make_server(witness, host, port)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    except OSError as exc:
        raise fail(f"cannot start the witness: {exc}") from None

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    bound_host, bound_port = server.server_address[:2]
    sys.stdout.write(
        f"witness {signer.verifier.vkey()}\nlistening on http://{bound_host!s}:{bound_port}\n"
    )
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
