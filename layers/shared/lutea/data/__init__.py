"""Database clients (one per container) and the repositories that use them."""
