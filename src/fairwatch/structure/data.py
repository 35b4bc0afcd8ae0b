"""Reading the (small) structural tables of a lake into pandas."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

#: The tables the structure package reads.
STRUCTURE_TABLES = (
    "entities",
    "ownership",
    "financials",
    "deals",
    "market_shares",
    "platforms",
    "platform_metrics",
)


def load_tables(lake: Path, names: Iterable[str] = STRUCTURE_TABLES) -> dict[str, pd.DataFrame]:
    """The lake's tables among ``names``, as pandas frames with the standard's columns.

    Tables absent from the lake are absent from the result. Columns follow the
    standard's canonical types (a column the lake lacks is present and null).
    """
    from fairwatch.engine import connect
    from fairwatch.lake import Lake

    wanted = list(names)
    files = {t: f for t, f in Lake(Path(lake)).table_files().items() if t in wanted}
    engine = connect(files)
    try:
        return {t: engine.execute(engine.table(t)) for t in wanted if engine.has(t)}
    finally:
        engine.close()
