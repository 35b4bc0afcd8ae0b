"""The ownership graph: control, ultimate controllers, cycles, effective shares, turnovers."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairwatch.errors import DataError
from fairwatch.law import default_store
from fairwatch.structure.ownership import ControlRules, OwnershipGraph

DAY = date(2024, 6, 30)


def edges(*rows: tuple) -> pd.DataFrame:
    """Rows of (owner, owned, share, voting, control[, valid_from[, valid_to]])."""
    out = []
    for r in rows:
        owner, owned, share, voting, control = r[:5]
        out.append(
            {
                "owner_id": owner,
                "owned_id": owned,
                "share_pct": share,
                "voting_pct": voting,
                "control": control,
                "valid_from": r[5] if len(r) > 5 else date(2010, 1, 1),
                "valid_to": r[6] if len(r) > 6 else None,
            }
        )
    return pd.DataFrame(out)


def test_majority_of_votes_controls_and_half_does_not() -> None:
    g = OwnershipGraph(
        edges(("P", "A", 50.01, None, "equity"), ("P", "B", 50.0, 50.0, "equity")),
        law=default_store(),
    )
    snap = g.at(DAY)
    assert snap.ultimate_controller("A") == "P"
    assert snap.ultimate_controller("B") == "B"


def test_votes_not_equity_decide_and_contracts_control_whatever_the_share() -> None:
    g = OwnershipGraph(
        edges(
            ("P", "A", 70.0, 30.0, "equity"),  # non-voting shares: no control
            ("Q", "A", 20.0, 60.0, "equity"),
            ("W", "V", 0.0, None, "vie"),
            ("X", "Y", 5.0, 5.0, "board"),
            ("Z", "Y", 45.0, 45.0, "equity"),
        ),
        law=default_store(),
    )
    snap = g.at(DAY)
    assert snap.ultimate_controller("A") == "Q"
    assert snap.ultimate_controller("V") == "W"
    assert snap.ultimate_controller("Y") == "X"


def test_three_level_chain_through_a_vie_resolves_to_the_top() -> None:
    g = OwnershipGraph(
        edges(
            ("G", "H", 100.0, 100.0, "equity"),
            ("H", "W", 100.0, 100.0, "equity"),
            ("W", "O", 0.0, 100.0, "vie"),
            ("O", "S", 80.0, 80.0, "equity"),
        ),
        law=default_store(),
    )
    snap = g.at(DAY)
    assert snap.ultimate_controller("S") == "G"
    assert [link.owner for link in snap.control_chain("S")] == ["O", "W", "H", "G"]
    assert snap.group_members("O") == ["G", "H", "O", "S", "W"]
    assert snap.controlled_by("W") == ["O", "S", "W"]


def test_edges_count_only_while_valid() -> None:
    g = OwnershipGraph(
        edges(
            ("P", "A", 100.0, 100.0, "equity", date(2020, 1, 1), date(2024, 6, 30)),
            ("Q", "A", 100.0, 100.0, "equity", date(2024, 6, 30)),
        ),
        law=default_store(),
    )
    assert g.at(date(2024, 6, 29)).ultimate_controller("A") == "P"
    assert g.at(date(2024, 6, 30)).ultimate_controller("A") == "Q"  # valid_to is exclusive
    assert g.at(date(2019, 12, 31)).ultimate_controller("A") == "A"


def test_control_cycle_is_one_group_represented_by_its_smallest_id() -> None:
    g = OwnershipGraph(
        edges(
            ("B", "C", 60.0, 60.0, "equity"),
            ("C", "B", 60.0, 60.0, "equity"),
            ("C", "D", 90.0, 90.0, "equity"),
        ),
        law=default_store(),
    )
    snap = g.at(DAY)
    assert snap.ultimate_controller("D") == "B"
    assert snap.ultimate_controller("C") == "B"
    assert snap.in_cycle[snap.node("B")] and not snap.in_cycle[snap.node("D")]
    assert snap.group_members("D") == ["B", "C", "D"]


def test_effective_shares_multiply_along_chains_and_add_over_paths() -> None:
    g = OwnershipGraph(
        edges(
            ("U", "A", 60.0, 60.0, "equity"),
            ("A", "T", 50.0, 50.0, "equity"),
            ("U", "B", 40.0, 40.0, "equity"),
            ("B", "T", 25.0, 25.0, "equity"),
        ),
        law=default_store(),
    )
    owners = g.at(DAY).effective_owners("T")
    assert owners["U"] == pytest.approx(60 * 0.5 + 40 * 0.25)
    assert owners["A"] == pytest.approx(50.0)
    assert g.at(DAY).ultimate_owners("T") == {"U": pytest.approx(40.0)}


def test_effective_shares_converge_on_cross_holdings() -> None:
    # A and B hold 10 % of each other; U holds 90 % of A
    g = OwnershipGraph(
        edges(
            ("A", "B", 10.0, 10.0, "equity"),
            ("B", "A", 10.0, 10.0, "equity"),
            ("U", "A", 90.0, 90.0, "equity"),
        ),
        law=default_store(),
    )
    owners = g.at(DAY).effective_owners("B")
    # U's share of B: 0.9 * 0.1 * (1 + 0.01 + 0.0001 + ...) = 0.09 / 0.99
    assert owners["U"] == pytest.approx(100 * 0.09 / 0.99)


def test_votes_held_count_through_controlled_entities() -> None:
    g = OwnershipGraph(
        edges(
            ("G", "A", 100.0, 100.0, "equity"),
            ("G", "T", 30.0, 30.0, "equity"),
            ("A", "T", 20.0, 20.0, "equity"),
            ("X", "T", 10.0, 10.0, "equity"),
        ),
        law=default_store(),
    )
    snap = g.at(DAY)
    assert snap.votes_held("G", "T") == pytest.approx(50.0)
    assert snap.votes_held("A", "T") == pytest.approx(20.0)


def test_group_turnover_is_the_controllers_consolidated_row_or_the_topmost_members() -> None:
    own = edges(("G", "A", 100.0, 100.0, "equity"), ("H", "B", 100.0, 100.0, "equity"))
    own = pd.concat([own, edges(("B", "C", 100.0, 100.0, "equity"))])
    fin = pd.DataFrame(
        [
            {
                "entity_id": "G",
                "fiscal_year": 2023,
                "global_turnover_cny": 9e9,
                "china_turnover_cny": 5e9,
            },
            {
                "entity_id": "A",
                "fiscal_year": 2023,
                "global_turnover_cny": 1e9,
                "china_turnover_cny": 1e9,
            },
            {
                "entity_id": "B",
                "fiscal_year": 2023,
                "global_turnover_cny": 2e9,
                "china_turnover_cny": 2e9,
            },
            {
                "entity_id": "C",
                "fiscal_year": 2023,
                "global_turnover_cny": 1e9,
                "china_turnover_cny": 1e9,
            },
        ]
    )
    g = OwnershipGraph(own, financials=fin, law=default_store())
    a = g.group_financials("A", 2023, DAY)
    assert (a.entity_id, a.china_turnover_cny, a.basis) == ("G", 5e9, "consolidated")
    c = g.group_financials("C", 2023, DAY)  # H reports nothing: B is the topmost reporting member
    assert (c.entity_id, c.china_turnover_cny, c.basis, c.entities) == (
        "H",
        2e9,
        "sum_of_members",
        ("B",),
    )
    assert not g.group_financials("A", 2019, DAY).reported


def test_control_rules_come_from_the_law_store_and_can_be_changed() -> None:
    own = edges(("P", "A", 40.0, 40.0, "equity"))
    assert OwnershipGraph(own, law=default_store()).at(DAY).ultimate_controller("A") == "A"
    lowered = ControlRules(majority_pct=33.0)
    assert OwnershipGraph(own, rules=lowered).at(DAY).ultimate_controller("A") == "P"


def test_missing_columns_are_named() -> None:
    with pytest.raises(DataError, match="control"):
        OwnershipGraph(pd.DataFrame({"owner_id": ["a"], "owned_id": ["b"], "share_pct": [1.0]}))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 60), st.integers(0, 2**31 - 1))
def test_pointer_jumping_agrees_with_walking_up(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(1, n):
        if rng.random() < 0.8:
            rows.append((f"E{int(rng.integers(0, n)):03d}", f"E{k:03d}", 80.0, 80.0, "equity"))
    if not rows:
        return
    snap = OwnershipGraph(edges(*rows), rules=ControlRules()).at(DAY)
    for i, entity in enumerate(snap.ids):
        seen, j = {i}, i
        while snap.parent[j] >= 0 and int(snap.parent[j]) not in seen:
            j = int(snap.parent[j])
            seen.add(j)
        if snap.parent[j] >= 0:  # ended in a cycle: the group is the cycle's smallest member
            cycle, k = [j], int(snap.parent[j])
            while k != j:
                cycle.append(k)
                k = int(snap.parent[k])
            j = min(cycle)
        assert snap.ultimate_controller(str(entity)) == str(snap.ids[j])
