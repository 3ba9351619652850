"""SnapStart runtime hooks (opt-in: the ``SnapStart`` parameter of template.yaml).

With SnapStart, Lambda runs a function's init once, snapshots the memory, and starts every new
execution environment from that snapshot, possibly hours later and many times over. Nothing
made during init may therefore be shared or outlive its purpose:

- before the snapshot: the MongoDB client is closed (its sockets, monitor threads and server
  view would be stale or shared), the settings are forgotten (they hold the secrets: a rotated
  value must be read again), the Stripe client and the Parameters cache are dropped;
- after each restore: the random generators are re-seeded (``random``, and the process-unique
  part and counter of bson ObjectIds, which would otherwise repeat across restored copies),
  then the settings (secrets fetched anew) and the MongoDB client are created again.

What holds a connection registers its own reset with ``on_snapshot`` (lutea.data.mongo does,
for its client), so this module knows no adapter and every package may import it.

``secrets``, ``uuid4`` and the password hashers draw from ``os.urandom`` at each call, which
the runtime keeps unique per restore. The hooks come from ``snapshot-restore-py``, which the
managed runtime provides (test_packaging counts it as the runtime's); elsewhere (tests,
``make dev``) registering is a no-op.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable
from secrets import randbelow

_registered = False
_resets: list[tuple[Callable[[], None], Callable[[], None]]] = []


def on_snapshot(before: Callable[[], None], after: Callable[[], None]) -> None:
    """``before`` runs before the snapshot (close what must not be shared), ``after`` after
    each restore, once the settings are read again (open it anew). Both must not raise."""
    if (before, after) not in _resets:
        _resets.append((before, after))


def before_snapshot() -> None:
    from lutea.config import reset_settings

    for before, _ in _resets:
        before()
    reset_settings()
    _forget_clients()


def after_restore() -> None:
    from lutea.config import get_settings

    reseed()
    _forget_clients()
    get_settings()  # the secret, fetched again
    for _, after in _resets:
        after()


def reseed() -> None:
    random.seed(os.urandom(32))
    from bson import ObjectId

    ObjectId._pid = -1  # bson draws new process-unique bytes when the pid looks changed
    ObjectId._inc = randbelow(0xFFFFFF + 1)


def _forget_clients() -> None:
    gateway = sys.modules.get("lutea.payments.gateway")
    if gateway is not None:
        gateway.reset_gateway()
    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters")
    if parameters is not None:
        parameters.clear_caches()  # the cached values and the providers' boto3 clients


def register_hooks() -> bool:
    """Register the hooks once per process; False where SnapStart is off or has no hooks."""
    global _registered
    if _registered:
        return True
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "snap-start":
        return False  # Lambda says so during a SnapStart init; elsewhere there is nothing to hook
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    _registered = True
    return True
