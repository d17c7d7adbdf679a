"""Airflow's side of tests/e2e/test_airflow_dag.py, run in a child process (Airflow configures its
settings, logging and database connection when imported; the test process keeps its own).

    python airflow_child.py structure DAG_FOLDER
    python airflow_child.py run DAG_FOLDER DATE RUN_CONF_JSON [MARK_SUCCESS_PATTERN]

Each prints one line `RESULT {json}` last; the environment (AIRFLOW_HOME, dags folder) comes from the test.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from airflow.dag_processing.dagbag import DagBag

DAG_ID = "shortvideo_daily"


def load(dag_folder: str) -> DagBag:
    return DagBag(dag_folder=dag_folder, safe_mode=False)


def structure(dag_folder: str) -> dict:
    bag = load(dag_folder)
    dag = bag.dags.get(DAG_ID)
    result = {"import_errors": bag.import_errors, "dag_ids": sorted(bag.dag_ids)}
    if dag is None:
        return result
    result.update(
        max_active_runs=dag.max_active_runs,
        catchup=dag.catchup,
        params=sorted(dag.params.keys()),
        tasks={
            task.task_id: {
                "operator": type(task).__name__,
                "upstream": sorted(task.upstream_task_ids),
                "downstream": sorted(task.downstream_task_ids),
                "retries": task.retries,
                "retry_delay_seconds": task.retry_delay.total_seconds(),
                "trigger_rule": str(task.trigger_rule.value),
            }
            for task in dag.tasks
        },
    )
    return result


def run(dag_folder: str, day: str, run_conf: dict, mark_success: str | None = None) -> dict:
    dag = load(dag_folder).dags[DAG_ID]
    logical_date = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), tzinfo=dt.timezone.utc)
    dag_run = dag.test(logical_date=logical_date, run_conf=run_conf, mark_success_pattern=mark_success)
    return {
        "state": str(dag_run.state),
        "tasks": {ti.task_id: {"state": str(ti.state), "try_number": ti.try_number}
                  for ti in dag_run.get_task_instances()},
    }


if __name__ == "__main__":
    command, folder, *rest = sys.argv[1:]
    if command == "structure":
        outcome = structure(folder)
    else:
        outcome = run(folder, rest[0], json.loads(rest[1]), *rest[2:])
    print("RESULT " + json.dumps(outcome, default=str), flush=True)
