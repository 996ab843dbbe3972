"""Alembic migrations of the shared schema (engine and handlers tables); see ``engine/schema.py``."""
