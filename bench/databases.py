"""The benchmark's own databases: SQLite files copied from one migrated
template, and a PostgreSQL database on 127.0.0.1 created and dropped here."""

import logging
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"
POSTGRES_DB = "bench_finder"


def sqlite_url(path):
    return f"sqlite:///{path}"


def copy_sqlite(template, target):
    """Copy a SQLite database with its WAL files, if any."""
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{template}{suffix}")
        if source.exists():
            shutil.copyfile(source, f"{target}{suffix}")


def remove_sqlite(path):
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def postgres_available():
    import psycopg

    try:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", connect_timeout=3):
            return True
    except psycopg.Error as exc:
        logger.warning("PostgreSQL is not reachable: %s", type(exc).__name__)
        return False


def _postgres(statement):
    import psycopg

    with psycopg.connect(
        f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=5
    ) as conn:
        conn.execute(statement)


def create_postgres(name=POSTGRES_DB):
    """Create (again) the database `name` and return its URL. The smoke test
    passes a name of its own, so a test run never drops a benchmark's data."""
    drop_postgres(name)
    _postgres(f"CREATE DATABASE {name}")
    return f"{POSTGRES_SERVER}/{name}"


def drop_postgres(name=POSTGRES_DB):
    _postgres(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
