"""What every benchmark needs of the PostgreSQL server: its own database, created or recreated.

Benchmarks import this after putting the project on ``sys.path`` (``from bench.support import …``).
"""

from __future__ import annotations

import environ
import psycopg


def server_connection(database_url: str) -> tuple[psycopg.Connection, str]:
    """An autocommit connection to the server's ``postgres`` database, and the name of the
    database ``database_url`` points at."""
    config = environ.Env.db_url_config(database_url)
    connection = psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    return connection, config["NAME"]


def recreate_database(database_url: str) -> None:
    """Drop the database of ``database_url`` (its sessions too) and create it empty."""
    admin, name = server_connection(database_url)
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def ensure_database(database_url: str) -> bool:
    """Create the database of ``database_url`` unless it exists; True when it was created."""
    admin, name = server_connection(database_url)
    with admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        admin.execute(f'CREATE DATABASE "{name}"')
    print(f"created database {name}")
    return True
