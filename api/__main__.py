"""`python -m api --host H --port P`: the app under uvicorn, settings from the environment."""

from __future__ import annotations

import argparse

import uvicorn

from traceability.entrypoints.logs import logging_config
from traceability.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m api")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    settings = Settings()
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        # Applied in every server process, so --workers N logs the same way.
        log_config=logging_config(settings.log_format, settings.log_level),
    )


if __name__ == "__main__":
    main()
