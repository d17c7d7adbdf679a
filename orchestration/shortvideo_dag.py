"""The orchestrator's schedule: the daily chain of jobs as an Apache Airflow 3 DAG.

Each task runs the project's own entry point, `./spark-submit.sh JOB ...` (shared/spec/cli.md), in
a bash operator: it checks the arguments before Spark starts, builds the Spark configuration and
packages from conf/, and its exit code is the contract. Exit 0 succeeds; exit 2 (bad arguments,
missing paths, unreadable configuration: nothing ran) fails the task at once, since a retry would
fail the same way; any other code fails the try and is retried after a delay (jobs are idempotent
and leave nothing half-written visible, so a retry is safe).

Order: ingest --once, dims, daily for the run's day, daily for the pending days (late data),
archive, gdpr (only when the day's requests file holds an id), maintain.

Where things are comes from the run's params (trigger with config), else the Airflow Variable
`shortvideo_<name>`, else the default below; an empty value leaves the option out, so the job uses
the environment's configuration (conf/<spark_env>.toml). Relative paths are taken from project_dir.
"""

from __future__ import annotations

import datetime as dt
import shlex
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import ShortCircuitOperator
from airflow.sdk import DAG, CronDataIntervalTimetable, Param, TriggerRule, Variable
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

DAG_ID = "shortvideo_daily"
# Runs at 02:00 UTC for the UTC day that just ended: a run's {{ ds }} is the start of its interval.
SCHEDULE_CRON = "0 2 * * *"
START_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
RETRIES = 2
RETRY_DELAY = dt.timedelta(minutes=5)
EXIT_USAGE = 2  # jobs/common/cli.py: bad arguments, before any Spark work

VARIABLE_PREFIX = "shortvideo_"
SETTINGS = {  # name: (default, what it is)
    "project_dir": (str(Path(__file__).resolve().parents[1]),
                    "the project's checkout (holds spark-submit.sh and conf/)"),
    "spark_env": ("local", "--env: the configuration conf/<name>.toml"),
    "venv": ("", "SHORTVIDEO_VENV: the virtualenv spark-submit.sh uses (empty: <project_dir>/.venv)"),
    "master": ("", "--master (empty: the environment's spark.master)"),
    "landing": ("", "--landing (empty: the environment's paths.landing)"),
    "lake": ("", "--lake (empty: the environment's paths.lake)"),
    "job_options": ("", "more options for every job, e.g. --set ingest.hot_days=30"),
    "gdpr_requests": ("gdpr-requests/{ds}.txt",
                      "the day's erasure requests, one user id a line ({ds}: the run's date); "
                      "gdpr is skipped when the file is missing or holds no id"),
}
TAKES_LANDING = frozenset({"ingest", "dims"})


def setting(params: dict, name: str) -> str:
    """The run's param, else the Airflow Variable shortvideo_<name>, else the default."""
    given = params.get(name) if params else None
    if given:
        return str(given)
    default, _ = SETTINGS[name]
    return str(Variable.get(VARIABLE_PREFIX + name, default=default))


def spark_submit(params: dict, job: str, *arguments: str) -> str:
    """The shell command of one job: ./spark-submit.sh JOB ARGUMENTS plus the configured options."""
    options = ["--env", setting(params, "spark_env")]
    wanted = ["master", "lake", *(["landing"] if job in TAKES_LANDING else [])]
    for name in wanted:
        value = setting(params, name)
        if value:
            options += [f"--{name}", value]
    options += shlex.split(setting(params, "job_options"))
    venv = setting(params, "venv")
    prefix = [f"SHORTVIDEO_VENV={shlex.quote(venv)}"] if venv else []
    return " ".join([*prefix, "./spark-submit.sh", job, *map(shlex.quote, [*arguments, *options])])


def requests_file(path_template: str, project_dir: str, ds: str) -> Path:
    path = Path(path_template.replace("{ds}", ds))
    return path if path.is_absolute() else Path(project_dir) / path


def has_requested_ids(path: Path) -> bool:
    """The file holds at least one user id (the gdpr job's rule: blank lines and # comments ignored)."""
    if not path.is_file():
        return False
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return any(line and not line.startswith("#") for line in lines)


def gdpr_requests_waiting(params: dict, ds: str) -> str | None:
    """The requests file gdpr should read (pushed to XCom), or None to skip gdpr this run."""
    path = requests_file(setting(params, "gdpr_requests"), setting(params, "project_dir"), ds)
    return str(path) if has_requested_ids(path) else None


class SparkJobOperator(BashOperator):
    """One job through ./spark-submit.sh: exit 0 succeeds, exit 2 (bad arguments) fails without
    retries, any other non-zero code fails this try and is retried."""

    def __init__(self, *, job: str, arguments: str = "", **kwargs) -> None:
        command = f"{{{{ spark_submit(params, {job!r}{', ' + arguments if arguments else ''}) }}}}"
        super().__init__(bash_command=command, cwd="{{ setting(params, 'project_dir') }}",
                         skip_on_exit_code=EXIT_USAGE, **kwargs)

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowSkipException as usage:
            raise AirflowFailException(
                f"exit code {EXIT_USAGE}: the job refused its arguments or configuration "
                "(see its one-line error above); not retried") from usage


with DAG(
    dag_id=DAG_ID,
    description="The short-video lakehouse's daily chain: ingest, dims, daily, archive, gdpr, maintain",
    schedule=CronDataIntervalTimetable(SCHEDULE_CRON, timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,  # the jobs hold writer leases on the lake: one chain at a time
    default_args={"retries": RETRIES, "retry_delay": RETRY_DELAY},
    params={name: Param("", type="string", description=text) for name, (_, text) in SETTINGS.items()},
    user_defined_macros={"setting": setting, "spark_submit": spark_submit},
    tags=["shortvideo"],
    doc_md=__doc__,
) as dag:
    ingest = SparkJobOperator(task_id="ingest", job="ingest", arguments="'--once'")
    dims = SparkJobOperator(task_id="dims", job="dims")
    daily = SparkJobOperator(task_id="daily", job="daily", arguments="'--date', ds")
    daily_pending = SparkJobOperator(task_id="daily_pending", job="daily", arguments="'--pending'")
    archive = SparkJobOperator(task_id="archive", job="archive")
    requests_waiting = ShortCircuitOperator(
        task_id="gdpr_requests_waiting",
        python_callable=gdpr_requests_waiting,  # gets the run's params and ds from the context
        ignore_downstream_trigger_rules=False,  # skip gdpr only; maintain still runs
    )
    gdpr = SparkJobOperator(
        task_id="gdpr", job="gdpr",
        arguments="'--requests', ti.xcom_pull(task_ids='gdpr_requests_waiting')")
    maintain = SparkJobOperator(task_id="maintain", job="maintain",
                                trigger_rule=TriggerRule.NONE_FAILED)

    ingest >> dims >> daily >> daily_pending >> archive >> requests_waiting >> gdpr >> maintain
