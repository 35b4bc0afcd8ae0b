"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic import command

from fairwatch.cases.db import Store, alembic_config


def test_migrated_schema_matches_the_models(store: Store) -> None:
    cfg = alembic_config(store.url)
    with store.engine.connect() as connection:
        cfg.attributes["connection"] = connection
        command.check(cfg)  # raises when autogenerate would find a difference


def test_opening_a_store_twice_is_idempotent(store: Store) -> None:
    from fairwatch.cases.db import open_store

    again = open_store(store.url, evidence_dir=store.evidence_dir)
    try:
        with again.session() as s:
            assert s.connection().exec_driver_sql("select 1").scalar() == 1
    finally:
        again.dispose()
