"""The store's schema on SQLite, created without Alembic when a database is new.

Opening a store is on the path of every ``ocht run``; Alembic and SQLAlchemy together cost
more to import than the run of a small pipeline. So a SQLite store is opened with the
standard library: a new database gets the statements below (what migrations
``0001``..``0004`` leave behind, as SQLite itself records them in ``sqlite_master``) and
the version row Alembic would write; a database already at :data:`HEAD` is left as it is.
Any other database (an older revision, tables without a version) is upgraded by Alembic.
A test creates a store each way and compares the two ``sqlite_master`` tables, so a new
migration cannot be shipped without these statements following it.
"""

from __future__ import annotations

import sqlite3

#: The revision these statements produce (:data:`ocht.store.migrate.HEAD` must equal it).
REVISION = "0004"
VERSION_TABLE = "ocht_alembic_version"

#: ``CREATE`` statements, in the order Alembic runs them, verbatim from ``sqlite_master``.
STATEMENTS: tuple[str, ...] = (
    (
        "CREATE TABLE ocht_alembic_version (\n"
        "\tversion_num VARCHAR(32) NOT NULL, \n"
        "\tCONSTRAINT ocht_alembic_version_pkc PRIMARY KEY (version_num)\n"
        ")"
    ),
    (
        "CREATE TABLE ocht_runs (\n"
        "\trun_id VARCHAR(64) NOT NULL, \n"
        "\tpipeline VARCHAR(200) NOT NULL, \n"
        "\tcontent_hash VARCHAR(64) DEFAULT '' NOT NULL, \n"
        "\tprofile VARCHAR(200), \n"
        "\tmode VARCHAR(16) DEFAULT 'batch' NOT NULL, \n"
        "\tstatus VARCHAR(16) NOT NULL, \n"
        "\tstarted_at DATETIME NOT NULL, \n"
        "\tended_at DATETIME, \n"
        "\tpid INTEGER, \n"
        "\thost VARCHAR(255), \n"
        "\trows_read JSON, \n"
        "\trows_written JSON, \n"
        "\tstep_rows JSON, \n"
        "\tdead_letters INTEGER DEFAULT '0' NOT NULL, \n"
        "\terror_code VARCHAR(100), \n"
        "\terror_message TEXT, \n"
        "\tcursors_before JSON, \n"
        "\tcursors_after JSON, \n"
        "\textra JSON, \n"
        "\tPRIMARY KEY (run_id)\n"
        ")"
    ),
    "CREATE INDEX ix_ocht_runs_pipeline ON ocht_runs (pipeline)",
    "CREATE INDEX ix_ocht_runs_status ON ocht_runs (status)",
    "CREATE INDEX ix_ocht_runs_started_at ON ocht_runs (started_at)",
    (
        "CREATE TABLE ocht_state (\n"
        "\tpipeline VARCHAR(200) NOT NULL, \n"
        '\t"key" VARCHAR(200) NOT NULL, \n'
        "\tvalue JSON NOT NULL, \n"
        "\trun_id VARCHAR(64), \n"
        "\tupdated_at DATETIME NOT NULL, \n"
        '\tPRIMARY KEY (pipeline, "key")\n'
        ")"
    ),
    (
        "CREATE TABLE ocht_checkpoints (\n"
        "\tpipeline VARCHAR(200) NOT NULL, \n"
        '\t"key" VARCHAR(200) NOT NULL, \n'
        "\tposition JSON NOT NULL, \n"
        "\trun_id VARCHAR(64), \n"
        "\tupdated_at DATETIME NOT NULL, \n"
        '\tPRIMARY KEY (pipeline, "key")\n'
        ")"
    ),
    (
        "CREATE TABLE ocht_schema_history (\n"
        "\tid INTEGER NOT NULL, \n"
        "\tpipeline VARCHAR(200) NOT NULL, \n"
        "\toutput VARCHAR(200) NOT NULL, \n"
        "\tcolumns JSON NOT NULL, \n"
        "\tcolumns_hash VARCHAR(64) NOT NULL, \n"
        "\trecorded_at DATETIME NOT NULL, \n"
        "\trun_id VARCHAR(64), \n"
        "\tPRIMARY KEY (id)\n"
        ")"
    ),
    "CREATE INDEX ix_ocht_schema_history_output ON ocht_schema_history (pipeline, output, id)",
    (
        "CREATE TABLE ocht_tenants (\n"
        "\ttenant VARCHAR(100) NOT NULL, \n"
        "\tcreated_at DATETIME NOT NULL, \n"
        "\tPRIMARY KEY (tenant)\n"
        ")"
    ),
    (
        "CREATE TABLE ocht_pipelines (\n"
        "\tpipeline_id VARCHAR(64) NOT NULL, \n"
        "\ttenant VARCHAR(100) NOT NULL, \n"
        "\tname VARCHAR(200) NOT NULL, \n"
        "\tstatus VARCHAR(16) NOT NULL, \n"
        "\tlatest_version INTEGER NOT NULL, \n"
        "\tactive_version INTEGER, \n"
        "\tcreated_at DATETIME NOT NULL, \n"
        "\tupdated_at DATETIME NOT NULL, \n"
        "\tPRIMARY KEY (pipeline_id), \n"
        "\tCONSTRAINT uq_ocht_pipelines_tenant_name UNIQUE (tenant, name)\n"
        ")"
    ),
    (
        "CREATE TABLE ocht_pipeline_versions (\n"
        "\tpipeline_id VARCHAR(64) NOT NULL, \n"
        "\tversion INTEGER NOT NULL, \n"
        "\tcontent_hash VARCHAR(64) NOT NULL, \n"
        "\tdocument JSON NOT NULL, \n"
        "\tcreated_at DATETIME NOT NULL, \n"
        "\tcreated_by VARCHAR(200), \n"
        "\tPRIMARY KEY (pipeline_id, version)\n"
        ")"
    ),
    (
        "CREATE TABLE ocht_api_keys (\n"
        "\tkey_id VARCHAR(32) NOT NULL, \n"
        "\tsecret_hash VARCHAR(64) NOT NULL, \n"
        "\tname VARCHAR(200) DEFAULT '' NOT NULL, \n"
        "\trole VARCHAR(16) NOT NULL, \n"
        "\ttenant VARCHAR(100) NOT NULL, \n"
        "\tcreated_at DATETIME NOT NULL, \n"
        "\trevoked_at DATETIME, \n"
        "\tPRIMARY KEY (key_id)\n"
        ")"
    ),
    (
        "CREATE TABLE ocht_run_requests (\n"
        "\trun_id VARCHAR(64) NOT NULL, \n"
        "\ttenant VARCHAR(100) NOT NULL, \n"
        "\tpipeline_id VARCHAR(64) NOT NULL, \n"
        "\tpipeline VARCHAR(200) NOT NULL, \n"
        "\tversion INTEGER NOT NULL, \n"
        "\tprofile VARCHAR(200), \n"
        "\tvariables JSON, \n"
        "\tsandbox VARCHAR(1000), \n"
        "\tstatus VARCHAR(16) NOT NULL, \n"
        "\tsubmitted_at DATETIME NOT NULL, \n"
        "\tsubmitted_by VARCHAR(200), \n"
        "\trerun_of VARCHAR(64), \n"
        "\terror_code VARCHAR(100), \n"
        "\terror_message TEXT, \n"
        "\tended_at DATETIME, \n"
        "\tPRIMARY KEY (run_id)\n"
        ")"
    ),
    "CREATE INDEX ix_ocht_run_requests_tenant ON ocht_run_requests (tenant, submitted_at)",
    "CREATE INDEX ix_ocht_run_requests_pipeline ON ocht_run_requests (pipeline_id)",
    (
        "CREATE TABLE ocht_schedules (\n"
        "\tname VARCHAR(200) NOT NULL, \n"
        "\tpipeline VARCHAR(200) NOT NULL, \n"
        "\tsource TEXT NOT NULL, \n"
        "\tspec JSON NOT NULL, \n"
        "\tpaused BOOLEAN DEFAULT 0 NOT NULL, \n"
        "\tcreated_at DATETIME NOT NULL, \n"
        "\tlast_fire_at DATETIME, \n"
        "\tPRIMARY KEY (name)\n"
        ")"
    ),
    (
        "CREATE TABLE ocht_jobs (\n"
        "\tid VARCHAR(200) NOT NULL, \n"
        "\tpipeline VARCHAR(200) NOT NULL, \n"
        "\tsource TEXT NOT NULL, \n"
        "\trequest JSON NOT NULL, \n"
        "\tschedule VARCHAR(200), \n"
        "\tbackfill VARCHAR(64), \n"
        "\tperiod_key VARCHAR(64), \n"
        "\tperiod JSON, \n"
        "\tfire_at DATETIME, \n"
        "\tlock VARCHAR(200), \n"
        "\tstatus VARCHAR(16) NOT NULL, \n"
        "\tcancel_requested BOOLEAN DEFAULT 0 NOT NULL, \n"
        "\tattempt INTEGER DEFAULT '0' NOT NULL, \n"
        "\tmax_attempts INTEGER DEFAULT '1' NOT NULL, \n"
        "\tbackoff_s FLOAT DEFAULT '0' NOT NULL, \n"
        "\tnot_before DATETIME NOT NULL, \n"
        "\tqueued_at DATETIME NOT NULL, \n"
        "\tstarted_at DATETIME, \n"
        "\tended_at DATETIME, \n"
        "\tworker VARCHAR(255), \n"
        "\trun_id VARCHAR(64), \n"
        "\tqueue_ref BIGINT, \n"
        "\terror_code VARCHAR(100), \n"
        "\terror_message TEXT, \n"
        "\tPRIMARY KEY (id)\n"
        ")"
    ),
    "CREATE INDEX ix_ocht_jobs_status ON ocht_jobs (status, not_before)",
    "CREATE INDEX ix_ocht_jobs_schedule ON ocht_jobs (schedule)",
    "CREATE INDEX ix_ocht_jobs_backfill ON ocht_jobs (backfill, period_key)",
    (
        "CREATE TABLE ocht_backfills (\n"
        "\tid VARCHAR(64) NOT NULL, \n"
        "\tpipeline VARCHAR(200) NOT NULL, \n"
        "\tspec JSON NOT NULL, \n"
        "\tcreated_at DATETIME NOT NULL, \n"
        "\tPRIMARY KEY (id)\n"
        ")"
    ),
    (
        "CREATE TABLE ocht_run_origins (\n"
        "\trun_id VARCHAR(64) NOT NULL, \n"
        "\tjob_id VARCHAR(200) NOT NULL, \n"
        "\tschedule VARCHAR(200), \n"
        "\tbackfill VARCHAR(64), \n"
        "\tperiod_key VARCHAR(64), \n"
        "\tattempt INTEGER NOT NULL, \n"
        "\tworker VARCHAR(255) NOT NULL, \n"
        "\tstarted_at DATETIME NOT NULL, \n"
        "\tended_at DATETIME, \n"
        "\tstatus VARCHAR(16) NOT NULL, \n"
        "\tPRIMARY KEY (run_id)\n"
        ")"
    ),
    "CREATE INDEX ix_ocht_run_origins_job_id ON ocht_run_origins (job_id)",
    (
        "CREATE TABLE ocht_stream_checkpoints (\n"
        "\tpipeline VARCHAR(200) NOT NULL, \n"
        "\tgroup_id VARCHAR(255) NOT NULL, \n"
        "\ttopic VARCHAR(255) NOT NULL, \n"
        "\tpartition INTEGER NOT NULL, \n"
        "\tcluster_id VARCHAR(255) DEFAULT '' NOT NULL, \n"
        "\tnext_offset BIGINT NOT NULL, \n"
        "\tstate BLOB, \n"
        "\trun_id VARCHAR(64), \n"
        "\tupdated_at DATETIME NOT NULL, \n"
        "\tPRIMARY KEY (pipeline, group_id, topic, partition)\n"
        ")"
    ),
)


def ensure(conn: sqlite3.Connection) -> bool:
    """Bring a new database to :data:`REVISION`; say whether it is there now.

    Args:
        conn: a connection in autocommit mode (``isolation_level=None``).

    Returns:
        ``True`` when the database is at :data:`REVISION` (it was, or it was empty of the
        store's tables and now has them); ``False`` when Alembic has to upgrade it.
    """
    if _version(conn) == REVISION:
        return True
    conn.execute("BEGIN IMMEDIATE")  # another process may be creating it right now
    try:
        if _store_tables(conn):
            conn.execute("ROLLBACK")
            return _version(conn) == REVISION
        for statement in STATEMENTS:
            conn.execute(statement)
        conn.execute(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (?)", (REVISION,))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return True


def _version(conn: sqlite3.Connection) -> str | None:
    """The revision recorded, or ``None`` (no version table, or no row in it)."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)
    ).fetchone()
    if found is None:
        return None
    row = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
    return str(row[0]) if row else None


def _store_tables(conn: sqlite3.Connection) -> bool:
    """Whether any of the store's tables (``ocht_*``) exists already."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name LIKE 'ocht!_%' ESCAPE '!'"
    ).fetchone()
    return row is not None
