"""Score a Parquet file with kiln inside PySpark, through ``DataFrame.mapInArrow``.

The artifact's bytes are broadcast once; each Python worker loads the model the first time a
task needs it and keeps it for every later task it runs (pinned to the driver's fingerprint).
Spark hands each task its rows as Arrow record batches, which kiln takes in without copying.

    python examples/pyspark/score_parquet.py [--data customers.parquet] [--model model.kiln]
        [--id customer_id] [--out target/pyspark-scores] [--partitions 4] [--check]

``--check`` scores the same file again outside Spark with ``kiln.load(model).score(table)`` and
fails unless every output, status and reason is identical (outputs compared bit for bit).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import types
from typing import Iterator

# Spark's Python workers must run the interpreter that has kiln installed; in local mode that
# is the one running this script.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import SparkSession
from pyspark.sql.types import DoubleType, IntegerType, StringType, StructField, StructType

import kiln

# The worker-side model cache must live in a module the worker imports, not in a global of
# this script: Spark pickles the scoring function by value (cloudpickle), so a dict global here
# would arrive empty with every task and the model would be reloaded per task. sys.modules
# lives as long as the (reused) Python worker process.
_CACHE_MODULE = "_kiln_spark_models"


def worker_model(fingerprint: str, artifact, loads) -> kiln.Model:
    """The model for ``fingerprint`` in this Python worker, loaded from the broadcast bytes
    on first use only (reading ``artifact.value`` is what fetches the broadcast)."""
    cache = sys.modules.get(_CACHE_MODULE)
    if cache is None:
        cache = sys.modules.setdefault(_CACHE_MODULE, types.ModuleType(_CACHE_MODULE))
        cache.models = {}
    model = cache.models.get(fingerprint)
    if model is None:
        # n_threads=1: Spark already runs one task per core, each in its own Python worker.
        # kiln's default (0 = every core) would fan each call out over all cores, N tasks x N
        # threads on N cores, and the tasks would only fight over the CPUs. Results are
        # bit-identical whatever the thread count, so nothing is given up.
        model = kiln.load(artifact.value, expect_fingerprint=fingerprint, n_threads=1)
        cache.models[fingerprint] = model
        loads.add(1)
    return model


def make_scorer(fingerprint: str, artifact, loads, id_column: str, outputs: list):
    """The mapInArrow function: RecordBatches of (id, model inputs) to RecordBatches of
    (id, outputs..., status, reason)."""

    def score_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        model = worker_model(fingerprint, artifact, loads)
        for batch in batches:
            if batch.num_rows == 0:
                continue
            # Moved in through the Arrow C Data Interface: no copy of the numeric columns.
            # Columns are matched by name, so the id column rides along untouched.
            scored = model.score(batch, n_threads=1)
            names = [id_column, *outputs, "status", "reason"]
            columns = [batch.column(id_column)]
            columns += [pa.concat_arrays(scored.column(name).chunks) for name in names[1:]]
            yield pa.RecordBatch.from_arrays(columns, names=names)

    return score_batches


def check(spark_out: str, data: str, model_path: str, id_column: str, outputs: list) -> None:
    """Fails unless Spark's scores equal kiln's on the whole file outside Spark, bit for bit."""
    with kiln.load(model_path) as model:
        expected = model.score(pq.read_table(data))
    expected = expected.add_column(0, id_column, pq.read_table(data, columns=[id_column]).column(0))
    got = pq.read_table(spark_out)
    if got.num_rows != expected.num_rows:
        raise SystemExit(f"check FAILED: Spark wrote {got.num_rows} rows, the file has {expected.num_rows}")
    expected = expected.sort_by(id_column)
    got = got.sort_by(id_column)
    ids = expected.column(id_column).to_numpy()
    if len(np.unique(ids)) != len(ids):
        raise SystemExit(f"check needs a unique id column; {id_column!r} has duplicates")
    if not np.array_equal(ids, got.column(id_column).to_numpy()):
        raise SystemExit("check FAILED: the ids Spark wrote differ from the file's")
    for name in outputs:
        a = expected.column(name).to_numpy().view(np.uint64)
        b = got.column(name).to_numpy().view(np.uint64)
        bad = np.flatnonzero(a != b)
        if bad.size:
            raise SystemExit(f"check FAILED: {bad.size} rows differ in {name!r}, first id {ids[bad[0]]}")
    for name in ("status", "reason"):
        if expected.column(name).to_pylist() != got.column(name).to_pylist():
            raise SystemExit(f"check FAILED: {name!r} differs")
    print(f"check: {got.num_rows} rows, outputs {outputs}, status and reason identical "
          "(bit for bit) to kiln.load(model).score(pyarrow table) outside Spark")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="examples/bank/customers.parquet")
    parser.add_argument("--model", default="examples/bank/model.kiln")
    parser.add_argument("--id", default="customer_id", help="column kept next to the scores")
    parser.add_argument("--out", default="target/pyspark-scores", help="Parquet directory written")
    parser.add_argument("--partitions", type=int, default=4,
                        help="spread the rows over this many tasks (0 = as Spark reads them)")
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--check", action="store_true", help="compare with kiln outside Spark")
    args = parser.parse_args()

    with open(args.model, "rb") as f:
        artifact_bytes = f.read()
    # Load once on the driver: it validates the artifact before any task starts and gives the
    # fingerprint that pins every worker's copy, and the input and output names.
    with kiln.load(artifact_bytes) as model:
        fingerprint, inputs, outputs = model.fingerprint, list(model.schema), model.outputs

    spark = (SparkSession.builder.master(args.master).appName("kiln-pyspark-example")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("WARN")
    try:
        artifact = spark.sparkContext.broadcast(artifact_bytes)
        loads = spark.sparkContext.accumulator(0)

        # Only the id and the model's inputs travel to the Python workers.
        df = spark.read.parquet(args.data).select(args.id, *inputs)
        if args.partitions > 0:
            df = df.repartition(args.partitions)
        spark_schema = StructType(
            [df.schema[args.id]]
            + [StructField(name, DoubleType(), True) for name in outputs]
            + [StructField("status", IntegerType(), False), StructField("reason", StringType(), False)]
        )
        scorer = make_scorer(fingerprint, artifact, loads, args.id, outputs)

        start = time.perf_counter()
        df.mapInArrow(scorer, spark_schema).write.mode("overwrite").parquet(args.out)
        seconds = time.perf_counter() - start

        scored = spark.read.parquet(args.out)
        print(f"scored {scored.count()} rows of {args.data} with {fingerprint[:19]}… in {seconds:.2f} s "
              f"({df.rdd.getNumPartitions()} tasks, model loaded {loads.value} time(s) across the "
              f"Python workers) -> {args.out}")
        scored.groupBy("status", "reason").count().orderBy("status", "reason").show(truncate=False)
        scored.orderBy(args.id).show(5, truncate=False)
    finally:
        spark.stop()

    if args.check:
        check(args.out, args.data, args.model, args.id, outputs)


if __name__ == "__main__":
    main()
