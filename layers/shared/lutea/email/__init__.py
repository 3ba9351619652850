"""Outgoing email: one service, two backends (Resend, or .eml files in a local outbox).

The package imports nothing itself: a function imports the modules it sends with, when it sends."""
