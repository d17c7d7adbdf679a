"""Spark jobs of the short-video lakehouse: one module per job, run through spark-submit.sh."""
