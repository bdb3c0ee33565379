"""Where the log's signing key comes from."""

from __future__ import annotations

from traceability.errors import Invalid
from traceability.settings import Settings
from traceability.transparency.checkpoints import (
    NoteSigner,
    read_signer_key_file,
    write_signer_key_file,
)


def load_signer(settings: Settings) -> NoteSigner:
    """The log's signer key.

    In embedded mode a missing key is created in the data directory on first
    use, so a newcomer's first command works. With a shared database every API
    process must use the same key, so a missing file is an error there.
    """
    path = settings.resolved_signing_key_file
    if not path.exists():
        if not settings.is_embedded:
            raise Invalid(
                f"signing key file {path} does not exist; create it with "
                "`sunledger keys generate` and set SUNLEDGER_SIGNING_KEY_FILE"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        write_signer_key_file(path, NoteSigner.generate(settings.log_key_name))
    return read_signer_key_file(path)
