"""The Spark engine of the offline build: the steps that read the whole log, as PySpark jobs.

``engine.SparkEngine`` implements ``offline.engine.ComputeEngine``; ``session`` starts or
joins the session (``--master local[N] | spark://... | yarn | k8s://...``), ``source``
reads the log (Parquet / CSV files, ML-100K's atomic file) with the schema check,
``jobs`` holds split / lastN / hot / examples, ``neighbors`` item-CF, user-CF and swing.
Results come back to the driver as Parquet files in the build's work directory, read in
chunks, so the driver never holds the log. On a cluster the work directory must be a
path both the driver and the executors reach (a shared mount), and the executors need
this package installed (swing runs our numpy kernel on them).

Nothing here is imported unless ``--engine spark`` is chosen; pyspark is the
``spark`` extra.
"""
