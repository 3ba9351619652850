"""TLS to MySQL (MYSQL_TLS=verify, set by the template in AWS): required, never a silent fall back
to clear text, and verified (certificate and host name)."""

from __future__ import annotations

import ssl

import pymysql
import pytest
from lutea.config import Settings, load_settings
from lutea.data.sql import MySqlDatabase, mysql_options

from tests.support.mysql import HOST, PASSWORD, PORT, USER


def _settings(**over: object) -> Settings:
    base = Settings(mysql_host=HOST, mysql_port=PORT, mysql_user=USER, mysql_password=PASSWORD)
    return base._replace(**over)


@pytest.mark.mysql
def test_with_tls_required_a_server_that_offers_none_is_refused() -> None:
    # The machine's MariaDB has no TLS: pymysql's default would carry on in clear text.
    MySqlDatabase(_settings())._connect(None).close()  # reachable without TLS
    with pytest.raises(pymysql.err.OperationalError) as refused:
        MySqlDatabase(_settings(mysql_tls=True))._connect(None)
    assert refused.value.args[0] == 2026  # CR_SSL_CONNECTION_ERROR, raised before authenticating


def test_tls_verifies_the_certificate_and_the_host_name() -> None:
    conn = pymysql.connections.Connection(**mysql_options(_settings(mysql_tls=True), None), defer_connect=True)
    assert conn.ctx.verify_mode == ssl.CERT_REQUIRED and conn.ctx.check_hostname is True


def test_without_tls_nothing_is_asked_of_the_server() -> None:
    assert not {k for k in mysql_options(_settings(), None) if k.startswith("ssl")}


def test_mysql_tls_takes_verify_or_off_only() -> None:
    assert load_settings({"MYSQL_TLS": "verify"}).mysql_tls is True
    assert load_settings({"MYSQL_TLS": "off"}).mysql_tls is False
    assert load_settings({}).mysql_tls is False
    with pytest.raises(RuntimeError, match="MYSQL_TLS"):
        load_settings({"MYSQL_TLS": "preferred"})
