"""Request models, one module per API area."""
