"""Fixtures of the retreats tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.accounts import admin_session


@pytest.fixture
def admin(make_client: Any, frozen_clock: Any) -> Any:
    """A signed-in admin client (2FA done), on the frozen clock."""
    client, _ = admin_session(make_client)
    return client
