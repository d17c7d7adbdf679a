"""What spark-submit.sh keeps the wheels of (scripts/requirements.py): pyproject.toml's dependencies,
its test extra with the project's own extras expanded, and the build backend; never the project."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from scripts.requirements import PYPROJECT, requirements


def test_the_test_extra_is_expanded_with_the_extras_it_names_of_the_project():
    pyproject = {"build-system": {"requires": ["setuptools>=68"]}, "project": {
        "name": "demo-project",
        "dependencies": ["pyspark==4.2.0", "numpy>=1.26"],
        "optional-dependencies": {
            "test": ["pytest>=8", "demo-project[airflow,kafka]", "numpy>=1.26"],
            "airflow": ["apache-airflow==3.3.2", "demo-project[test]"],  # a cycle ends where it began
            "kafka": ["confluent-kafka==2.16.1"],
            "docs": ["mkdocs"],
        },
    }}

    assert requirements(pyproject) == ["pyspark==4.2.0", "numpy>=1.26", "pytest>=8", "apache-airflow==3.3.2",
                                       "confluent-kafka==2.16.1", "setuptools>=68"]


def test_the_projects_own_list_names_what_its_jobs_and_tests_import_and_never_the_project():
    printed = subprocess.run([sys.executable, "scripts/requirements.py"], cwd=PYPROJECT.parent, check=True,
                             capture_output=True, text=True).stdout.splitlines()
    pyproject = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))

    assert printed == requirements(pyproject)
    assert not [line for line in printed if line.startswith(pyproject["project"]["name"])]
    names = {line.split("[")[0].split("=")[0].split(">")[0].split("<")[0] for line in printed}
    assert {"pyspark", "delta-spark", "chispa", "pytest", "apache-airflow", "setuptools"} <= names
