"""The ``sunledger`` command: every command group, registered in the order ``--help`` lists them.

The commands live in the modules beside this one; they share ``console`` (the
consoles, ``fail``, ``load_settings``) and ``progress`` (the one progress bar).
"""

from __future__ import annotations

import typer

from traceability.entrypoints.cli.audit import register as register_audit
from traceability.entrypoints.cli.chain import anchor, chain_app
from traceability.entrypoints.cli.contracts import contracts_app
from traceability.entrypoints.cli.db import db_app
from traceability.entrypoints.cli.demo import demo
from traceability.entrypoints.cli.devices import register_commands as register_device_commands
from traceability.entrypoints.cli.imports import import_app
from traceability.entrypoints.cli.log import keys_app, log_app, proof
from traceability.entrypoints.cli.orgs import orgs_app
from traceability.entrypoints.cli.serve import serve, worker
from traceability.entrypoints.cli.simulate import register as register_simulate
from traceability.entrypoints.cli.verify import register as register_verify
from traceability.entrypoints.cli.vision import vision_app
from traceability.entrypoints.cli.witness import witness_app

app = typer.Typer(
    help="Sunshine Ledger: a verifiable food-safety event log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(log_app, name="log")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(chain_app, name="chain")
app.add_typer(contracts_app, name="contracts")
app.add_typer(orgs_app, name="orgs")
app.add_typer(vision_app, name="vision")
app.add_typer(witness_app, name="witness")
app.add_typer(import_app, name="import")
register_audit(app)
register_device_commands(app)
register_simulate(app)
register_verify(app)
for command in (serve, demo, anchor, worker, proof):
    app.command()(command)


def main() -> None:
    app()
