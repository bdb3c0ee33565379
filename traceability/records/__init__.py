"""Restaurant records (晨检, 进货查验, 留样, 消毒, 添加剂, 废弃油脂, 自查): schemas, the record
book that logs them, CSV bulk upload, and the checks that raise alerts."""

from traceability.records.checks import RecordChecks, RecordPolicy
from traceability.records.csv_import import CsvRejected, import_csv, layout
from traceability.records.schemas import RECORD_TYPES
from traceability.records.service import LoggedRecord, RecordBook, RecordRejected

__all__ = [
    "RECORD_TYPES",
    "CsvRejected",
    "LoggedRecord",
    "RecordBook",
    "RecordChecks",
    "RecordPolicy",
    "RecordRejected",
    "import_csv",
    "layout",
]
