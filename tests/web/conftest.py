"""What the page tests share: one small synthetic market in a managed lake (read only)."""

from __future__ import annotations

from pathlib import Path

import pytest

#: the scale of the pages' synthetic market: small enough to build in a few seconds
WEB_SCALE = dict(quotes=20_000, platforms=4, merchants=30, skus=60, users=800, days=30)


@pytest.fixture(scope="session")
def web_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic market (seed 5) ingested into a managed lake; tests must not
    append to it (those that submit batches use a lake of their own)."""
    from fairwatch.lake import ingest
    from fairwatch.synth.core import Scale
    from fairwatch.synth.generate import generate_market

    root = tmp_path_factory.mktemp("web-market")
    generate_market(root / "market", Scale("web", **WEB_SCALE), seed=5)
    ingest(root / "market", root / "lake")
    return root / "lake"
