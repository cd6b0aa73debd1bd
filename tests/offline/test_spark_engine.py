"""The Spark engine against real Spark (local mode, ``SPARK_MASTER`` from tests/ci/47-spark.sh), on small data.

One session for the module (the engines join it); each test compares with the embedded engine,
which defines what every operation means.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dubbo_recsys.offline.config import BuildConfig, FilesSource, Source, SparkConfig, SyntheticConfig
from dubbo_recsys.offline.context import BuildContext
from dubbo_recsys.offline.embedded import EmbeddedEngine
from dubbo_recsys.offline.errors import SourceDataError
from dubbo_recsys.offline.neighbors import sample_priority
from tests.support import require_env


@pytest.fixture(scope="module")
def spark():
    master = require_env("SPARK_MASTER")
    from dubbo_recsys.offline.spark.session import spark_session

    session, owned = spark_session(SparkConfig(master=master, shuffle_partitions=2))
    yield session
    if owned:
        session.stop()


def _engine(spark):
    from dubbo_recsys.offline.spark.engine import SparkEngine

    engine = SparkEngine(SparkConfig(master=spark.sparkContext.master, shuffle_partitions=2))
    assert engine.session is spark  # joined, not a second JVM
    return engine


def _ctx(config: BuildConfig, tmp_path, engine, name: str) -> BuildContext:
    return BuildContext(config=config, root=tmp_path / name / "root", work=tmp_path / name / "work", engine=engine)


def test_sampling_hash_in_sql_equals_numpy(spark):
    from pyspark.sql import functions as F

    from dubbo_recsys.offline.spark.neighbors import priority_column

    rng = np.random.default_rng(1)
    user = rng.integers(0, 2**31 - 1, 2_000).astype(np.int32)
    item = rng.integers(0, 2**31 - 1, 2_000).astype(np.int32)
    frame = spark.createDataFrame(pa.table({"user": user, "item": item}))
    got = frame.select(priority_column(12345).alias("p"), F.monotonically_increasing_id().alias("o")).toArrow()
    got = got.sort_by("o").column("p").to_numpy()
    assert np.array_equal(got, sample_priority(12345, user, item))
    assert len(np.unique(got)) == len(got)  # a hash, not a constant


def _write_log(directory, parts: list[dict]) -> None:
    directory.mkdir(parents=True)
    for number, columns in enumerate(parts):
        pq.write_table(pa.table(columns), directory / f"part-{number}.parquet")


def _split_both(spark, tmp_path, files: FilesSource, **spark_conf):
    config = BuildConfig(source=Source.FILES, out=tmp_path / "out", files=files)
    out = []
    for name, engine in (("embedded", EmbeddedEngine()), ("spark", _engine(spark))):
        ctx = _ctx(config, tmp_path, engine, name)
        ctx.catalog = engine.load(ctx)
        summary, popularity = engine.split(ctx)
        train = list(engine.train_chunks())
        out.append((ctx.catalog, summary, popularity, train, engine))
    return out


def test_file_order_breaks_timestamp_ties_in_both_engines(spark, tmp_path):
    # every event at the same second: only the source order (file, then row) decides which is last
    first = {"user_id": ["a", "a", "b"], "item_id": ["x", "y", "x"], "ts": [5, 5, 5], "rating": [1.0, 2.0, 3.0]}
    second = {"user_id": ["b", "a", "b"], "item_id": ["z", "z", "y"], "ts": [5, 5, 5], "rating": [4.0, 5.0, 6.0]}
    _write_log(tmp_path / "log", [first, second])
    embedded, spark_side = _split_both(spark, tmp_path, FilesSource(str(tmp_path / "log")))
    for side in (embedded, spark_side):
        catalog, summary = side[0], side[1]
        tests = dict(
            zip(catalog.user_ids[summary.test_user].tolist(), catalog.item_ids[summary.test_item].tolist(), strict=True)
        )
        assert tests == {"a": "z", "b": "y"}  # each user's last row in file order
    assert np.array_equal(embedded[2], spark_side[2])
    assert np.array_equal(
        np.concatenate([c.item for c in embedded[3]]), np.concatenate([c.item for c in spark_side[3]])
    )


@pytest.mark.parametrize(
    "columns, message",
    [
        ({"user_id": ["a"], "item_id": ["x"], "ts": ["yesterday"]}, "column 'ts' has type string"),
        ({"user_id": ["a"], "item": ["x"], "ts": [1]}, "missing column 'item_id'"),
        ({"user_id": ["a"], "item_id": ["x"], "ts": [1], "rating": ["good"]}, "column 'rating' has type string"),
    ],
)
def test_bad_schema_names_the_column_in_both_engines(spark, tmp_path, columns, message):
    _write_log(tmp_path / "log", [columns])
    config = BuildConfig(source=Source.FILES, out=tmp_path / "out", files=FilesSource(str(tmp_path / "log")))
    for name, engine in (("embedded", EmbeddedEngine()), ("spark", _engine(spark))):
        with pytest.raises(SourceDataError, match=message):
            engine.load(_ctx(config, tmp_path, engine, name))


def test_unknown_ids_and_csv_input(spark, tmp_path):
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "log.csv").write_text("user_id,item_id,ts\nu1,i1,10\nu1,i2,11\nu2,i9,12\n")
    pq.write_table(pa.table({"item_id": ["i1", "i2"], "categories": ["a|b", "b"]}), tmp_path / "items.parquet")
    files = FilesSource(str(tmp_path / "csv" / "*.csv"), items=str(tmp_path / "items.parquet"))
    config = BuildConfig(source=Source.FILES, out=tmp_path / "out", files=files)
    for name, engine in (("embedded", EmbeddedEngine()), ("spark", _engine(spark))):
        with pytest.raises(SourceDataError, match="i9"):
            engine.load(_ctx(config, tmp_path, engine, name))


def test_validation_build_holds_out_the_same_rows(spark, tmp_path):
    config = BuildConfig(
        source=Source.SYNTHETIC, out=tmp_path / "out", synthetic=SyntheticConfig(users=60, items=90, seed=2)
    )
    results = []
    for name, engine_type in (("embedded", EmbeddedEngine), ("spark", None)):
        outer_engine = engine_type() if engine_type else _engine(spark)
        outer = _ctx(config, tmp_path, outer_engine, name)
        outer.catalog = outer_engine.load(outer)
        outer_engine.split(outer)
        inner_engine = engine_type() if engine_type else _engine(spark)
        inner = _ctx(dataclasses.replace(config, out=tmp_path / "v"), tmp_path, inner_engine, f"{name}-validation")
        outer_engine.held_out().run(inner)
        summary, _ = inner_engine.split(inner)
        results.append((summary.test_user, summary.test_item, summary.test_ts, summary.n_train))
    for left, right in zip(*results, strict=True):
        assert np.array_equal(left, right)
