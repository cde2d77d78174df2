"""Importers: roster, timetables, Service calendar, Arbor roll-call and lesson exports.

The core (`parse_file`) turns a file's name and bytes into typed rows and defects without a
database; `runner` writes them (one transaction and ImportBatch per file); `gaps` lists what
the roster lacks.
"""

from worker.imports.drop import import_drop_folder
from worker.imports.gaps import DataGap, data_gaps
from worker.imports.parse import Known, ParsedFile, detect_kind, parse_file
from worker.imports.runner import (
    FileResult,
    import_bytes,
    import_files,
    import_paths,
)

KINDS = ("schools", "staff", "pupils", "timetables", "calendar", "roll_call", "lessons")

__all__ = [
    "KINDS",
    "DataGap",
    "FileResult",
    "Known",
    "ParsedFile",
    "data_gaps",
    "detect_kind",
    "import_bytes",
    "import_drop_folder",
    "import_files",
    "import_paths",
    "parse_file",
]
