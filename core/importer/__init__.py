"""Importing contacts from CSV and XLSX: read (reading.py), map (mapping.py), plan (planning.py), commit (commit.py)."""

from core.importer.commit import ImportResult, commit_import, import_history
from core.importer.mapping import auto_map, mapping_targets, sample_file
from core.importer.planning import ImportOptions, ImportPlan, plan_import
from core.importer.reading import MAX_FILE_BYTES, MAX_ROWS, RawTable, read_table

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "ImportOptions",
    "ImportPlan",
    "ImportResult",
    "RawTable",
    "auto_map",
    "commit_import",
    "import_history",
    "mapping_targets",
    "plan_import",
    "read_table",
    "sample_file",
]
