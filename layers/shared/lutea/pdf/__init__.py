"""Documents rendered as PDF (booking confirmations)."""
