"""Business rules, in plain Python (no API Gateway, no resolver, no database driver)."""
