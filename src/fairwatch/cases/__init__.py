"""Closed-loop case handling: alerts, leads, cases, decisions, rectification, review.

- :mod:`fairwatch.cases.models`: the tables (SQLAlchemy 2); migrations in
  ``migrations/`` (Alembic); :mod:`fairwatch.cases.db` opens a store (SQLite by default,
  PostgreSQL in production).
- :mod:`fairwatch.cases.audit`: the append-only, hash-chained audit log.
- :mod:`fairwatch.cases.service`: the domain operations, each checked against the
  caller's role and recorded in the audit log.
"""
