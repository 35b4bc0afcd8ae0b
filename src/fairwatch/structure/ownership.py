"""The ownership graph: who controls whom on a given day, and whose money it is.

Built from the reporting standard's ``ownership`` table (dated equity and control
edges) and, for names and turnovers, ``entities`` and ``financials``.

Two readings of the same edges answer two questions:

- **Control** (group resolution, merger notification). An edge confers control when
  its ``control`` kind is contractual (``cn.aml.control.contractual_kinds``: VIE,
  agreement, board) or when the owner holds strictly more than
  ``cn.aml.control.majority_pct`` of the votes (``voting_pct``, else ``share_pct``).
  Each entity has at most one controlling parent (contractual control first, then the
  largest stake; ties broken by owner id), so control forms a forest; the **ultimate
  controller** is the root above an entity, found for every entity at once by pointer
  jumping (``O(n log n)`` in numpy). A control cycle (A controls B controls A) has no
  root: its members form one group whose representative is the cycle's smallest id.
- **Economic interest** (penetration to the ultimate owners). Shares multiply along
  chains and add over parallel paths: the effective holdings are the Leontief series
  ``A + A^2 + ...`` of the share matrix ``A``, evaluated by sparse power iteration,
  which converges on cycles as long as no entity is wholly owned around a loop.

Edges are valid from ``valid_from`` (inclusive) to ``valid_to`` (exclusive; null =
still valid).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from fairwatch.errors import DataError
from fairwatch.structure._values import opt_float as _opt

MAJORITY = "cn.aml.control.majority_pct"
CONTRACTUAL = "cn.aml.control.contractual_kinds"
#: Weight of a contractual control edge when choosing among an entity's controllers.
_CONTRACT_WEIGHT = 1000.0
_COLUMNS = ("owner_id", "owned_id", "share_pct", "voting_pct", "control", "valid_from")


@dataclass(frozen=True)
class ControlRules:
    """When an edge confers control (read from the law store at a day)."""

    majority_pct: float = 50.0
    contractual_kinds: frozenset[str] = frozenset({"vie", "agreement", "board"})
    #: the law-store parameters the rules were read from
    citations: tuple[str, ...] = ()

    @classmethod
    def from_law(cls, law: Any, day: date) -> ControlRules:
        majority = law.entry(MAJORITY, day)
        kinds = law.entry(CONTRACTUAL, day)
        return cls(
            majority_pct=float(majority.value),
            contractual_kinds=frozenset(str(k) for k in kinds.value),
            citations=(MAJORITY, CONTRACTUAL),
        )

    def confers_control(self, control: str, share_pct: Any, voting_pct: Any) -> bool:
        if control in self.contractual_kinds:
            return True
        return _votes(share_pct, voting_pct) > self.majority_pct


@dataclass(frozen=True)
class Link:
    """One controlling edge: ``owner`` controls ``owned``."""

    owner: str
    owned: str
    control: str
    share_pct: float | None
    voting_pct: float | None
    valid_from: date

    def describe(self) -> str:
        if self.control != "equity" and self.control != "other":
            how = f"{self.control} control"
            if self.share_pct:
                how += f" ({self.share_pct:g} % equity)"
            return how
        votes = self.voting_pct if self.voting_pct is not None else self.share_pct
        return f"{votes:g} % of the votes" if votes is not None else self.control


@dataclass
class Snapshot:
    """The ownership graph on one day (see the module docstring)."""

    day: date
    rules: ControlRules
    ids: np.ndarray  # entity ids, sorted; position = node number
    #: controlling parent of each node (-1: none) and the edge row that makes it so
    parent: np.ndarray
    parent_edge: np.ndarray
    root: np.ndarray  # ultimate controller (group representative) of each node
    in_cycle: np.ndarray
    edges: pd.DataFrame  # the edges valid on ``day`` with integer ``src``/``dst``
    _index: dict[str, int] = field(default_factory=dict, repr=False)
    _children: dict[int, list[int]] | None = field(default=None, repr=False)
    _shares: sp.csr_matrix | None = field(default=None, repr=False)

    # -- lookups ---------------------------------------------------------------------

    def node(self, entity_id: str) -> int | None:
        if not self._index:
            self._index = {str(e): i for i, e in enumerate(self.ids)}
        return self._index.get(str(entity_id))

    def ultimate_controller(self, entity_id: str) -> str:
        """The top of ``entity_id``'s control chain (itself if nobody controls it)."""
        i = self.node(entity_id)
        return str(entity_id) if i is None else str(self.ids[self.root[i]])

    def controllers(self, entity_id: str) -> list[str]:
        """Every entity above ``entity_id`` in its control chain, nearest first."""
        return [link.owner for link in self.control_chain(entity_id)]

    def control_chain(self, entity_id: str) -> list[Link]:
        """The controlling edges from ``entity_id`` up to its ultimate controller."""
        chain: list[Link] = []
        i = self.node(entity_id)
        seen: set[int] = set()
        while i is not None and self.parent[i] >= 0 and i not in seen:
            seen.add(i)
            row = self.edges.iloc[int(self.parent_edge[i])]
            chain.append(
                Link(
                    owner=str(row.owner_id),
                    owned=str(row.owned_id),
                    control=str(row.control),
                    share_pct=_opt(row.share_pct),
                    voting_pct=_opt(row.voting_pct),
                    valid_from=pd.Timestamp(row.valid_from).date(),
                )
            )
            i = int(self.parent[i])
        return chain

    def same_group(self, a: str, b: str) -> bool:
        return self.ultimate_controller(a) == self.ultimate_controller(b)

    def group_members(self, entity_id: str) -> list[str]:
        """Every entity in ``entity_id``'s group (same ultimate controller), sorted."""
        i = self.node(entity_id)
        if i is None:
            return [str(entity_id)]
        return sorted(str(e) for e in self.ids[self.root == self.root[i]])

    def controlled_by(self, entity_id: str) -> list[str]:
        """``entity_id`` and every entity it controls directly or through others."""
        i = self.node(entity_id)
        if i is None:
            return [str(entity_id)]
        children = self._child_lists()
        out, stack, seen = [], [i], {i}
        while stack:
            n = stack.pop()
            out.append(str(self.ids[n]))
            for c in children.get(n, ()):
                if c not in seen:
                    seen.add(c)
                    stack.append(c)
        return sorted(out)

    def votes_held(self, holder: str, entity_id: str) -> float:
        """Percent of ``entity_id``'s votes held by ``holder`` and the entities it controls.

        Votes held through controlled entities count in full (the usual reading of
        "holds, directly or indirectly"); ``voting_pct`` is used, else ``share_pct``.
        """
        j = self.node(entity_id)
        if j is None:
            return 0.0
        holders = {self.node(e) for e in self.controlled_by(holder)} - {None}
        rows = self.edges[(self.edges["dst"] == j) & self.edges["src"].isin(holders)]
        return float(sum(_votes(r.share_pct, r.voting_pct) for r in rows.itertuples()))

    # -- economic interest -------------------------------------------------------------

    def effective_owners(self, entity_id: str, *, tol: float = 1e-9) -> dict[str, float]:
        """Every direct and indirect owner of ``entity_id`` with its effective share (%).

        Shares multiply along a chain and add over parallel paths; cycles converge.
        """
        j = self.node(entity_id)
        if j is None:
            return {}
        a = self._share_matrix()  # a[i, k] = fraction of k that i holds
        col = np.zeros(len(self.ids))
        col[j] = 1.0
        total = np.zeros(len(self.ids))
        vec = a @ col
        for _ in range(10_000):
            total += vec
            if vec.max(initial=0.0) < tol:
                break
            vec = a @ vec
        else:  # pragma: no cover - only with a wholly-owned cycle
            raise DataError(f"ownership of {entity_id} does not converge: a 100 % cycle?")
        nz = np.flatnonzero(total > tol)
        return {str(self.ids[k]): round(float(total[k]) * 100, 6) for k in nz if k != j}

    def ultimate_owners(self, entity_id: str) -> dict[str, float]:
        """Owners at the top (owned by nobody) with their effective share in ``entity_id``."""
        owners = self.effective_owners(entity_id)
        owned = set(self.edges["owned_id"].astype(str))
        return {o: s for o, s in owners.items() if o not in owned}

    # -- internals -------------------------------------------------------------------

    def _child_lists(self) -> dict[int, list[int]]:
        if self._children is None:
            children: dict[int, list[int]] = {}
            for child in np.flatnonzero(self.parent >= 0):
                children.setdefault(int(self.parent[child]), []).append(int(child))
            self._children = children
        return self._children

    def _share_matrix(self) -> sp.csr_matrix:
        if self._shares is None:
            e = self.edges
            frac = e["share_pct"].fillna(0.0).to_numpy(float) / 100.0
            n = len(self.ids)
            m = sp.coo_matrix((frac, (e["src"].to_numpy(), e["dst"].to_numpy())), shape=(n, n))
            self._shares = m.tocsr()
        return self._shares


class OwnershipGraph:
    """Dated ownership edges; :meth:`at` gives the graph on a day.

    ``ownership`` needs the standard's columns ``owner_id``, ``owned_id``,
    ``share_pct``, ``voting_pct``, ``control``, ``valid_from`` and ``valid_to``.
    """

    def __init__(
        self,
        ownership: pd.DataFrame,
        *,
        entities: pd.DataFrame | None = None,
        financials: pd.DataFrame | None = None,
        rules: ControlRules | None = None,
        law: Any = None,
    ) -> None:
        missing = [c for c in _COLUMNS if c not in ownership.columns]
        if missing:
            raise DataError(f"ownership lacks column(s) {', '.join(missing)}")
        own = ownership.copy()
        if "valid_to" not in own:
            own["valid_to"] = None
        own["owner_id"] = own["owner_id"].astype(str)
        own["owned_id"] = own["owned_id"].astype(str)
        own["valid_from"] = _dates(own["valid_from"])
        own["valid_to"] = _dates(own["valid_to"])
        for col in ("share_pct", "voting_pct"):
            own[col] = pd.to_numeric(own[col], errors="coerce").astype(float)
        self.ownership = own.reset_index(drop=True)
        self.entities = entities
        self.financials = financials
        self._rules = rules
        self._law = law
        self._cache: dict[date, Snapshot] = {}
        self._fin_by_year: (
            dict[int, dict[str, tuple[float | None, float | None, float | None]]] | None
        ) = None
        names: set[str] = set(own["owner_id"]) | set(own["owned_id"])
        if entities is not None and "entity_id" in entities:
            names |= set(entities["entity_id"].astype(str))
        self.ids = np.array(sorted(names), dtype=object)
        index = pd.Index(self.ids)
        self._src = index.get_indexer(own["owner_id"])
        self._dst = index.get_indexer(own["owned_id"])
        self._from = own["valid_from"].to_numpy("datetime64[ns]")
        self._to = own["valid_to"].to_numpy("datetime64[ns]")

    def rules_at(self, day: date) -> ControlRules:
        if self._rules is not None:
            return self._rules
        if self._law is None:
            return ControlRules()
        return ControlRules.from_law(self._law, day)

    def at(self, day: date) -> Snapshot:
        """The graph of the edges valid on ``day`` (cached per day)."""
        if day not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[day] = self._snapshot(day)
        return self._cache[day]

    def name(self, entity_id: str) -> str | None:
        ents = self.entities
        if ents is None or "name" not in ents:
            return None
        hit = ents.loc[ents["entity_id"].astype(str) == str(entity_id), "name"]
        return None if hit.empty else str(hit.iloc[0])

    def _snapshot(self, day: date) -> Snapshot:
        rules = self.rules_at(day)
        ts = np.datetime64(day, "ns")
        mask = (self._from <= ts) & (np.isnat(self._to) | (self._to > ts))
        live = self.ownership[mask].reset_index(drop=True)
        n = len(self.ids)
        src, dst = self._src[mask], self._dst[mask]
        live = live.assign(src=src, dst=dst)
        votes = live["voting_pct"].fillna(live["share_pct"]).fillna(0.0).to_numpy(float)
        contractual = live["control"].isin(rules.contractual_kinds).to_numpy()
        weight = np.where(contractual, _CONTRACT_WEIGHT + votes, votes)
        confers = contractual | (votes > rules.majority_pct)
        cand = np.flatnonzero(confers & (src != dst))
        parent = np.full(n, -1, dtype=np.int64)
        parent_edge = np.full(n, -1, dtype=np.int64)
        if len(cand):
            # per owned node: the highest weight, then the smallest owner id
            order = np.lexsort((src[cand], -weight[cand], dst[cand]))
            chosen = cand[order]
            first = np.ones(len(chosen), dtype=bool)
            first[1:] = dst[chosen][1:] != dst[chosen][:-1]
            best = chosen[first]
            parent[dst[best]] = src[best]
            parent_edge[dst[best]] = best
        root, in_cycle = _roots(parent)
        return Snapshot(
            day=day,
            rules=rules,
            ids=self.ids,
            parent=parent,
            parent_edge=parent_edge,
            root=root,
            in_cycle=in_cycle,
            edges=live,
        )

    # -- turnovers -------------------------------------------------------------------

    def group_financials(self, entity_id: str, fiscal_year: int, day: date) -> GroupFigures:
        """Turnover of ``entity_id``'s whole group in ``fiscal_year`` (control on ``day``).

        ``financials`` rows are consolidated, so the group's figure is its ultimate
        controller's row. Where the controller reports none, the figure is the sum of
        the topmost members that do (members none of whose controllers report), and
        ``basis`` says so.
        """
        snap = self.at(day)
        top = snap.ultimate_controller(entity_id)
        fin = self._fin_year(fiscal_year)
        if top in fin:
            g, c, v = fin[top]
            return GroupFigures(top, fiscal_year, g, c, v, basis="consolidated", entities=(top,))
        members = snap.group_members(entity_id)
        reporting = [m for m in members if m in fin]
        topmost = [m for m in reporting if not any(c in fin for c in snap.controllers(m))]
        if not topmost:
            return GroupFigures(top, fiscal_year, None, None, basis="none", entities=())
        glob = _sum_opt(fin[m][0] for m in topmost)
        china = _sum_opt(fin[m][1] for m in topmost)
        value = _sum_opt(fin[m][2] for m in topmost)
        return GroupFigures(
            top, fiscal_year, glob, china, value, basis="sum_of_members", entities=tuple(topmost)
        )

    def own_financials(self, entity_id: str, fiscal_year: int) -> GroupFigures:
        """The entity's own consolidated row (itself and what it controls)."""
        fin = self._fin_year(fiscal_year)
        if str(entity_id) in fin:
            g, c, v = fin[str(entity_id)]
            return GroupFigures(
                str(entity_id),
                fiscal_year,
                g,
                c,
                v,
                basis="consolidated",
                entities=(str(entity_id),),
            )
        return GroupFigures(str(entity_id), fiscal_year, None, None, basis="none", entities=())

    def _fin_year(
        self, fiscal_year: int
    ) -> Mapping[str, tuple[float | None, float | None, float | None]]:
        if self._fin_by_year is None:
            by_year: dict[int, dict[str, tuple[float | None, float | None, float | None]]] = {}
            fin = self.financials
            if fin is not None and not fin.empty:
                for r in fin.itertuples(index=False):
                    by_year.setdefault(int(r.fiscal_year), {})[str(r.entity_id)] = (
                        _opt(getattr(r, "global_turnover_cny", None)),
                        _opt(getattr(r, "china_turnover_cny", None)),
                        _opt(getattr(r, "market_value_cny", None)),
                    )
            self._fin_by_year = by_year
        return self._fin_by_year.get(int(fiscal_year), {})


@dataclass(frozen=True)
class GroupFigures:
    """Turnovers of an undertaking in one fiscal year (yuan; ``None`` = not reported)."""

    entity_id: str
    fiscal_year: int
    global_turnover_cny: float | None
    china_turnover_cny: float | None
    market_value_cny: float | None = None
    basis: str = "consolidated"
    entities: tuple[str, ...] = ()

    @property
    def reported(self) -> bool:
        return self.basis != "none"


def _roots(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root of every node of a parent forest (cycles: the cycle's smallest node)."""
    n = len(parent)
    up = np.where(parent >= 0, parent, np.arange(n))
    anc = up.copy()
    for _ in range(max(1, math.ceil(math.log2(max(n, 2)))) + 1):
        nxt = anc[anc]
        if np.array_equal(nxt, anc):
            break
        anc = nxt
    # a node whose ancestor is not a fixed point ends in a cycle
    cyclic_end = up[anc] != anc
    in_cycle = np.zeros(n, dtype=bool)
    if cyclic_end.any():
        rep: dict[int, int] = {}
        for start in np.unique(anc[cyclic_end]):
            start = int(start)
            if start in rep:
                continue
            cycle = [start]
            k = int(up[start])
            while k != start:
                cycle.append(k)
                k = int(up[k])
            smallest = min(cycle)
            for c in cycle:
                rep[c] = smallest
                in_cycle[c] = True
        anc = anc.copy()
        idx = np.flatnonzero(cyclic_end)
        anc[idx] = [rep[int(a)] for a in anc[idx]]
    return anc, in_cycle


def _votes(share_pct: Any, voting_pct: Any) -> float:
    v = _opt(voting_pct)
    if v is not None:
        return v
    s = _opt(share_pct)
    return 0.0 if s is None else s


def _sum_opt(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(sum(vals)) if vals else None


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce").dt.tz_localize(None)


def empty_ownership() -> pd.DataFrame:
    """An ``ownership`` table without rows (a lake that reports none)."""
    return pd.DataFrame(
        {
            "owner_id": pd.Series(dtype=str),
            "owned_id": pd.Series(dtype=str),
            "share_pct": pd.Series(dtype=float),
            "voting_pct": pd.Series(dtype=float),
            "control": pd.Series(dtype=str),
            "valid_from": pd.Series(dtype="datetime64[ns]"),
            "valid_to": pd.Series(dtype="datetime64[ns]"),
        }
    )
