"""The jobs' one-line errors (jobs/common/report.py first_line) on real exceptions."""

from __future__ import annotations

import pytest
from py4j.protocol import Py4JJavaError

from jobs.common.report import first_line


def test_a_jvm_error_keeps_the_jvm_exception_on_its_one_line(spark, tmp_path):
    # An exception PySpark does not convert (as a SparkException from a failed Spark job)
    missing = tmp_path / "no-such-file"
    with pytest.raises(Py4JJavaError) as raised:
        spark.sparkContext._jvm.java.io.FileInputStream(str(missing))
    line = first_line(raised.value)
    assert "\n" not in line
    assert line.startswith("An error occurred while calling ")  # the call: which step failed
    assert line.endswith(f"java.io.FileNotFoundException: {missing} (No such file or directory)")  # and why


def test_a_python_error_is_its_first_line():
    assert first_line(ValueError("lake missing\nmore detail")) == "lake missing"
    assert first_line(KeyError()) == "KeyError"
