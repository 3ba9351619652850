"""Lutea shared layer: everything the functions have in common.

Dependency direction: functions -> lutea.http -> lutea.domain -> lutea.data (repositories) -> database.

Importing ``lutea`` defers the cyclic garbage collector until the function's entry point is
built (lutea.coldstart: what init builds is never garbage).
"""

from lutea import coldstart

coldstart.defer()
