"""Start or join the SparkSession of a build.

Settings that every build needs whatever the master: ANSI arithmetic off (the sampling
hash of ``offline.neighbors.sample_priority`` relies on 64-bit wrap-around, as Java
longs and numpy do), Arrow for the Python UDF transfers, no UI. The driver heap and
shuffle partitions come from ``SparkConfig``; ``--spark-conf`` pairs go last and win.
A session that was already running (a test's, a notebook's) is joined and left running.
"""

from __future__ import annotations

import os
import sys

from dubbo_recsys.offline.config import SparkConfig
from dubbo_recsys.offline.errors import BuildConfigError

__all__ = ["spark_session"]


def spark_session(config: SparkConfig):
    """(session, True when this call started it)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise BuildConfigError("--engine spark needs pyspark: pip install 'dubbo-recsys[spark]'") from None

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    # executors' Python workers run this interpreter (our venv) unless the operator said otherwise
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(config.master)
        .appName("dubbo-recsys build")
        .config("spark.driver.memory", config.driver_memory)
        .config("spark.sql.shuffle.partitions", str(config.shuffle_partitions))
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.python.worker.reuse", "true")
    )
    for key, value in config.conf:
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session, True
