"""Read a file of inspection history in one of the supported formats."""

from __future__ import annotations

from pathlib import Path

from traceability.errors import Invalid
from traceability.inspections.importers.fhrs import parse_fhrs
from traceability.inspections.importers.generic_csv import parse_csv
from traceability.inspections.importers.lives import bundle_files, parse_lives, zip_files
from traceability.inspections.importers.nyc import parse_nyc
from traceability.inspections.importers.parsed import FORMATS, ParsedFile, decode

DEFAULT_SCHEMES = {"lives": "us-lives", "fhrs": "uk-fhrs", "nyc": "us-nyc", "csv": "cn"}


def read_path(fmt: str, path: Path, encoding: str) -> ParsedFile:
    """Read ``path`` (a file; for LIVES also a zip or a directory)."""
    if fmt not in FORMATS:
        raise Invalid(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if not path.exists():
        raise Invalid(f"{path} does not exist")
    if fmt == "lives":
        return parse_lives(bundle_files(path), encoding)
    if path.is_dir():
        raise Invalid(f"{path} is a directory; the {fmt} format is one file")
    return read_bytes(fmt, path.name, path.read_bytes(), encoding)


def read_bytes(fmt: str, name: str, data: bytes, encoding: str) -> ParsedFile:
    """Read an uploaded file (for LIVES: a zip bundle or one flattened CSV)."""
    if fmt not in FORMATS:
        raise Invalid(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "lives":
        if data[:4] == b"PK\x03\x04":
            return parse_lives(zip_files(data, name), encoding)
        return parse_lives({name: data}, encoding)
    text = decode(data, encoding, name)
    if fmt == "fhrs":
        return parse_fhrs(name, text)
    if fmt == "nyc":
        return parse_nyc(name, text)
    return parse_csv(name, text)
