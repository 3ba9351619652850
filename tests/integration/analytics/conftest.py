"""Every analytics test runs twice: on SQLite (the default backend) and on the machine's MariaDB."""

from __future__ import annotations

import pytest

from tests.support.mysql import mysql_analytics, mysql_database  # noqa: F401 - fixtures


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "mysql":
        request.getfixturevalue("mysql_analytics")
    return request.param


@pytest.fixture
def sql(backend):
    """The application's own database handle, for assertions on what was (not) written."""
    from lutea.data.sql import get_sql

    return get_sql()
