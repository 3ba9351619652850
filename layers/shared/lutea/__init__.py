"""Lutea shared layer: everything the functions have in common.

Dependency direction: functions -> lutea.http -> lutea.domain -> lutea.data (repositories) -> database.
"""
