"""``--source files``: an interaction log as Parquet or CSV files, and optional user / item tables.

Schema (column names are the contract; anything else in the log is ignored)::

    interactions  user_id  string | integer        who
                  item_id  string | integer        what
                  ts       integer (epoch s) | floating (epoch s, floored) | timestamp
                  rating   integer | floating      optional, 1.0 when absent
    users         user_id  + any columns           every other column is a profile field ("region" feeds hot lists)
    items         item_id  + optional categories (string, "|"-separated, first = primary) or category,
                  author, region (strings); every other column becomes an item attr

A spec is a directory (every ``*.parquet`` / ``*.csv`` under it, hidden and ``_``-files
skipped) or a glob; CSV files have a header row. Files are read in path order and rows
in file order: that order breaks timestamp ties in the split, in both engines.

Ids: the users / items tables give the row order (files in path order); without a table
the ids are the log's distinct values in string order. A log id missing from a given
table is an error. How the seed's Hive tables map onto this: ``offline/README.md``.

This module serves the embedded engine (reads everything with pyarrow) and both
engines' catalog (read in the driver); ``offline.spark.source`` reads the log in Spark
with the same schema check.
"""

from __future__ import annotations

import glob
import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from dubbo_recsys.offline.config import FilesSource
from dubbo_recsys.offline.dataset import Catalog, Interactions, SourceData
from dubbo_recsys.offline.errors import SourceDataError

__all__ = [
    "LOG_SCHEMA",
    "check_schema",
    "files_fingerprint",
    "read_catalog",
    "read_source",
    "resolve",
    "type_kind",
]

# column -> (accepted kinds, required)
LOG_SCHEMA: dict[str, tuple[tuple[str, ...], bool]] = {
    "user_id": (("string", "integer"), True),
    "item_id": (("string", "integer"), True),
    "ts": (("integer", "floating", "timestamp"), True),
    "rating": (("integer", "floating"), False),
}
_ID = ("string", "integer")


def resolve(spec: str, what: str) -> tuple[list[Path], str]:
    """(files in path order, "parquet" or "csv") of a directory or a glob."""
    path = Path(spec)
    if path.is_dir():
        found = [p for p in path.rglob("*") if p.is_file() and p.suffix in (".parquet", ".csv")]
        found = [p for p in found if not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)]
    else:
        found = [Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file()]
    files = sorted(found, key=lambda p: p.as_posix())
    if not files:
        raise SourceDataError(f"{what}: no Parquet or CSV files at {spec!r}")
    kinds = {p.suffix for p in files}
    if len(kinds) != 1 or not kinds <= {".parquet", ".csv"}:
        raise SourceDataError(f"{what}: {spec!r} mixes or holds unknown file types {sorted(kinds)}")
    return files, kinds.pop().lstrip(".")


def type_kind(arrow_type: Any) -> str:
    import pyarrow as pa

    t = pa.types
    if t.is_string(arrow_type) or t.is_large_string(arrow_type):
        return "string"
    if t.is_integer(arrow_type):
        return "integer"
    if t.is_floating(arrow_type) or t.is_decimal(arrow_type):
        return "floating"
    if t.is_timestamp(arrow_type) or t.is_date(arrow_type):
        return "timestamp"
    return str(arrow_type)


def check_schema(what: str, kinds: dict[str, str], schema: dict[str, tuple[tuple[str, ...], bool]]) -> None:
    """Raise ``SourceDataError`` naming the first missing or mistyped column."""
    for column, (accepted, required) in schema.items():
        if column not in kinds:
            if required:
                raise SourceDataError(f"{what}: missing column {column!r} (columns: {', '.join(kinds)})")
            continue
        if kinds[column] not in accepted:
            raise SourceDataError(
                f"{what}: column {column!r} has type {kinds[column]}, expected {' or '.join(accepted)}"
            )


def _read(files: list[Path], fmt: str):
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    tables = [pq.read_table(p) if fmt == "parquet" else pacsv.read_csv(p) for p in files]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise SourceDataError(f"files of one table disagree on their schema: {exc}") from exc


def _strings(column) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    return np.asarray(pc.fill_null(column.cast(pa.string()), "").to_numpy(zero_copy_only=False), dtype=str)


def _table(spec: str, what: str, key: str):
    files, fmt = resolve(spec, what)
    table = _read(files, fmt)
    check_schema(what, {f.name: type_kind(f.type) for f in table.schema}, {key: (_ID, True)})
    ids = _strings(table.column(key))
    if len(set(ids.tolist())) != len(ids):
        raise SourceDataError(f"{what}: duplicate {key} values")
    return table, ids


def read_catalog(files: FilesSource, user_ids: np.ndarray | None = None, item_ids: np.ndarray | None = None) -> Catalog:
    """The catalog from the entity tables; ``user_ids`` / ``item_ids`` (the log's) stand in for absent tables."""
    profile: dict[str, np.ndarray] = {}
    if files.users:
        users, user_ids = _table(files.users, "users", "user_id")
        profile = {n: _strings(users.column(n)) for n in users.column_names if n != "user_id"}
    if user_ids is None or (item_ids is None and not files.items):
        raise SourceDataError("the log's ids are needed where no users / items table is given")
    names: dict[str, int] = {}
    ptr: list[int] = [0]
    codes: list[int] = []
    author = region = None
    attrs: dict[str, np.ndarray] = {}
    if files.items:
        items, item_ids = _table(files.items, "items", "item_id")
        cols = set(items.column_names)
        source = "categories" if "categories" in cols else "category" if "category" in cols else None
        for value in _strings(items.column(source)).tolist() if source else [""] * len(item_ids):
            codes.extend(names.setdefault(name, len(names)) for name in (v.strip() for v in value.split("|")) if name)
            ptr.append(len(codes))
        author = _strings(items.column("author")) if "author" in cols else None
        region = _strings(items.column("region")) if "region" in cols else None
        skip = {"item_id", "categories", "category", "author", "region"}
        attrs = {n: _strings(items.column(n)) for n in items.column_names if n not in skip}
    elif item_ids is not None:
        ptr = [0] * (len(item_ids) + 1)
    if item_ids is None:
        raise SourceDataError("the log's item ids are needed where no items table is given")
    n_items = len(item_ids)
    return Catalog(
        name="files",
        fingerprint=files_fingerprint(files),
        user_ids=np.asarray(user_ids, dtype=str),
        item_ids=np.asarray(item_ids, dtype=str),
        user_profile=profile,
        category_names=np.array(list(names), dtype=str),
        category_ptr=np.array(ptr, dtype=np.int64),
        category_codes=np.array(codes, dtype=np.int32),
        item_author=author if author is not None else np.full(n_items, "", dtype="<U1"),
        item_region=region if region is not None else np.full(n_items, "", dtype="<U1"),
        item_attrs=attrs,
        notes={
            "files": f"interactions {files.interactions!r}, users {files.users!r}, items {files.items!r}",
            "order": "files in path order, rows in file order (breaks timestamp ties)",
        },
    )


def _seconds(column) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = type_kind(column.type)
    if kind == "timestamp":
        column = pc.cast(pc.cast(column, pa.timestamp("s")), pa.int64())
    elif kind == "floating":
        column = pc.floor(column)
    return column.to_numpy().astype(np.int64)


def _rows(column, ids: np.ndarray, what: str) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.index_in(column.cast(pa.string()), value_set=pa.array(ids.tolist(), pa.string()))
    if found.null_count:
        missing = column.filter(pc.is_null(found))[0]
        raise SourceDataError(f"interactions: {what} {missing} is not in the {what.split('_')[0]}s table")
    return found.to_numpy().astype(np.int32)


def read_source(files: FilesSource) -> SourceData:
    """The embedded engine's read: catalog and the whole log in memory."""
    import pyarrow as pa
    import pyarrow.compute as pc

    paths, fmt = resolve(files.interactions, "interactions")
    log = _read(paths, fmt)
    check_schema("interactions", {f.name: type_kind(f.type) for f in log.schema}, LOG_SCHEMA)
    for column in ("user_id", "item_id", "ts"):
        if log.column(column).null_count:
            raise SourceDataError(f"interactions: column {column!r} has nulls")

    def distinct(column: str) -> np.ndarray:
        return np.sort(pc.unique(log.column(column).cast(pa.string())).to_numpy(zero_copy_only=False).astype(str))

    catalog = read_catalog(
        files,
        None if files.users else distinct("user_id"),
        None if files.items else distinct("item_id"),
    )
    rating = log.column("rating") if "rating" in log.column_names else None
    interactions = Interactions(
        _rows(log.column("user_id"), catalog.user_ids, "user_id"),
        _rows(log.column("item_id"), catalog.item_ids, "item_id"),
        _seconds(log.column("ts")),
        np.ones(log.num_rows, np.float32)
        if rating is None
        else pc.fill_null(rating, 1.0).to_numpy().astype(np.float32),
    )
    return SourceData(**{f: getattr(catalog, f) for f in Catalog.__dataclass_fields__}, interactions=interactions)


def files_fingerprint(files: FilesSource) -> str:
    """md5 of every input file's path, size and modification time (reading 50M rows to hash them costs minutes)."""
    digest = hashlib.md5()
    for spec, what in ((files.interactions, "interactions"), (files.users, "users"), (files.items, "items")):
        if spec:
            for path in resolve(spec, what)[0]:
                stat = path.stat()
                digest.update(f"{path.as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
