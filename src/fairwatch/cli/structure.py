"""``fairwatch entity`` and ``fairwatch deal``: control chains, deal screening, traffic light."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fairwatch.errors import FairwatchError
from fairwatch.structure._values import jsonable

console = Console()
_COLOURS = {"red": "bold red", "yellow": "bold yellow", "green": "bold green"}

deal_app = typer.Typer(
    help="Screen deals: notification thresholds, market effects and the capital traffic light.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

LakeOption = Annotated[Path, typer.Option("--lake", help="The lake with the structural tables.")]


def _fail(message: str) -> NoReturn:
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=2)


def _date(text: str | None, what: str) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"{what}: {text!r} is not a date; write YYYY-MM-DD, e.g. 2024-06-30")


def _tables(lake: Path) -> dict[str, Any]:
    from fairwatch.structure.data import load_tables

    try:
        return load_tables(lake)
    except FairwatchError as exc:
        _fail(str(exc))


def entity(
    entity_id: Annotated[str, typer.Argument(help="The entity_id to resolve.")],
    lake: LakeOption,
    at: Annotated[
        str | None, typer.Option("--at", help="Date (YYYY-MM-DD); default today.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Show who controls an entity on a date: the control chain up to the ultimate controller.

    Control is a majority of the votes or contractual control (VIE, agreement, board),
    as the law store's cn.aml.control parameters say; the group's turnover is its
    ultimate controller's consolidated figure for the previous fiscal year; the
    effective owners multiply shares along every chain.

    Example: fairwatch entity E000022 --lake lakes/small-1 --at 2024-06-30
    """
    from fairwatch.law import default_store
    from fairwatch.structure.ownership import OwnershipGraph

    day = _date(at, "--at")
    tables = _tables(lake)
    if "ownership" not in tables:
        _fail(f"lake {lake} has no ownership table: nothing to resolve")
    try:
        graph = OwnershipGraph(
            tables["ownership"],
            entities=tables.get("entities"),
            financials=tables.get("financials"),
            law=default_store(),
        )
        snap = graph.at(day)
    except FairwatchError as exc:
        _fail(str(exc))
    if snap.node(entity_id) is None:
        _fail(f"entity {entity_id!r} appears neither in entities nor in ownership")
    chain = snap.control_chain(entity_id)
    top = snap.ultimate_controller(entity_id)
    members = snap.group_members(entity_id)
    figures = graph.group_financials(entity_id, day.year - 1, day)
    owners = snap.ultimate_owners(entity_id)
    if as_json:
        out = {
            "entity_id": entity_id,
            "at": day.isoformat(),
            "ultimate_controller": top,
            "control_chain": [
                {
                    "owner_id": link.owner,
                    "owned_id": link.owned,
                    "control": link.control,
                    "share_pct": link.share_pct,
                    "voting_pct": link.voting_pct,
                    "valid_from": link.valid_from.isoformat(),
                }
                for link in chain
            ],
            "in_control_cycle": bool(snap.in_cycle[snap.node(entity_id) or 0]),
            "group_members": members,
            "group_financials": {
                "fiscal_year": figures.fiscal_year,
                "global_turnover_cny": figures.global_turnover_cny,
                "china_turnover_cny": figures.china_turnover_cny,
                "market_value_cny": figures.market_value_cny,
                "basis": figures.basis,
            },
            "ultimate_owners_pct": owners,
            "control_rules": {
                "majority_pct": snap.rules.majority_pct,
                "contractual_kinds": sorted(snap.rules.contractual_kinds),
                "citations": list(snap.rules.citations),
            },
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    name = graph.name(entity_id)
    console.print(
        f"[bold]{escape(entity_id)}[/] {escape(name or '')} on {day}: ultimate controller "
        f"[bold]{escape(top)}[/] {escape(graph.name(top) or '')}"
    )
    table = Table(
        "level", "controlled", "controller", "how", title="control chain", title_justify="left"
    )
    if not chain:
        table.add_row("-", entity_id, "-", "controlled by nobody (top of its group)")
    for level, link in enumerate(chain, start=1):
        table.add_row(str(level), link.owned, link.owner, escape(link.describe()))
    console.print(table)
    console.print(
        f"group of {len(members)} entities; FY{figures.fiscal_year} turnover "
        f"(basis {figures.basis}): China {_money(figures.china_turnover_cny)}, worldwide "
        f"{_money(figures.global_turnover_cny)}, market value {_money(figures.market_value_cny)}"
    )
    if owners:
        own = Table(
            "ultimate owner", "effective share %", title="economic interest", title_justify="left"
        )
        for owner, pct in sorted(owners.items(), key=lambda kv: -kv[1])[:10]:
            own.add_row(owner, f"{pct:.2f}")
        console.print(own)
    rules = snap.rules
    console.print(
        f"[dim]control: > {rules.majority_pct:g} % of the votes, or contract "
        f"({', '.join(sorted(rules.contractual_kinds))}); {', '.join(rules.citations)}[/]"
    )


@deal_app.command("screen")
def screen(
    lake: LakeOption,
    deal_id: Annotated[
        list[str] | None, typer.Option("--deal", help="Deal ids to show (default: all).")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Judge what was known then.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Screen the lake's deals: notification duty, market effects and the traffic light.

    Each deal gets red, yellow or green with every reason, its figures and its
    citations. Exit code 1 when any deal is red.

    Example: fairwatch deal screen --lake lakes/small-1 --deal DL20240012
    """
    day = _date(as_of, "--as-of") if as_of else None
    lights = _lights(lake, deal_id, day)
    _show(lights, as_json)
    if any(light.colour == "red" for light in lights):
        raise typer.Exit(code=1)


@deal_app.command("propose")
def propose(
    lake: LakeOption,
    acquirer: Annotated[str, typer.Option("--acquirer", help="Acquirer entity_id.")],
    target: Annotated[str, typer.Option("--target", help="Target entity_id.")],
    on: Annotated[str | None, typer.Option("--on", help="Signing date; default today.")] = None,
    stake_after: Annotated[float, typer.Option("--stake-after", help="Stake after, %.")] = 100.0,
    no_control: Annotated[
        bool, typer.Option("--no-control", help="The investment does not confer control.")
    ] = False,
    consideration: Annotated[
        float | None, typer.Option("--consideration", help="Price paid, yuan.")
    ] = None,
    price: Annotated[
        list[str] | None,
        typer.Option("--price", help="ENTITY=PRICE in a market of the deal; repeatable."),
    ] = None,
    margin: Annotated[
        list[str] | None,
        typer.Option("--margin", help="ENTITY=MARGIN as a fraction of price; repeatable."),
    ] = None,
    diversion: Annotated[
        list[str] | None,
        typer.Option("--diversion", help="FROM:TO=RATIO, share of FROM's lost sales to TO."),
    ] = None,
    outside_share: Annotated[
        float, typer.Option("--outside-share", help="Logit outside good's share (0..1).")
    ] = 0.3,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Screen a proposed investment before it is signed: would it be red, yellow or green?

    With --price (every undertaking in a market), --margin (one at least) and
    --diversion, each affected market also gets GUPPI / UPP and a logit merger
    simulation calibrated from the market's shares, the prices and one margin.

    The parties' turnovers, groups and markets come from the lake; the thresholds and
    screening criteria are those in force on --on. Exit code 1 when the light is red.

    Example: fairwatch deal propose --lake lk --acquirer E000003 --target E000120 --on 2025-03-01
    """
    day = _date(on, "--on")
    try:
        tl = _traffic_light(lake)
        light = tl.proposal(
            acquirer,
            target,
            day,
            control=not no_control,
            stake_after_pct=stake_after,
            consideration_cny=consideration,
        )
    except FairwatchError as exc:
        _fail(str(exc))
    effects = _price_effects(tl, light, price, margin, diversion, outside_share)
    if as_json:
        out = light.to_dict()
        out["price_effects"] = [jsonable(asdict(e)) for e in effects]
        typer.echo(json.dumps([out], ensure_ascii=False, indent=2))
    else:
        _show([light], as_json)
        for e in effects:
            console.print(
                f"  price effects in {e.market_id}: GUPPI {e.guppi or 'n/a'}, UPP "
                f"{e.upp or 'n/a'}; logit simulation (calibrated on {e.calibrated_from}'s "
                f"margin): mean price change {e.logit_mean_price_change_pct} %, parties "
                f"{e.logit_parties_price_change_pct}"
                + (f" [dim]({'; '.join(e.notes)})[/]" if e.notes else "")
            )
    if light.colour == "red":
        raise typer.Exit(code=1)


def _pairs(values: list[str] | None, what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in values or []:
        key, sep, number = item.partition("=")
        try:
            if not sep or not key:
                raise ValueError
            out[key.strip()] = float(number)
        except ValueError:
            _fail(f"{what}: {item!r} is not KEY=NUMBER, e.g. E000003=12.5")
    return out


def _price_effects(
    tl: Any,
    light: Any,
    price: list[str] | None,
    margin: list[str] | None,
    diversion: list[str] | None,
    outside_share: float,
) -> list[Any]:
    from fairwatch.structure.deals import PriceEvidence, market_shares_of, price_effects

    if not price:
        return []
    div: dict[tuple[str, str], float] = {}
    for key, value in _pairs(diversion, "--diversion").items():
        a, sep, b = key.partition(":")
        if not sep:
            _fail(f"--diversion: {key!r} is not FROM:TO=RATIO")
        div[(a, b)] = value
    evidence = PriceEvidence(
        _pairs(price, "--price"), _pairs(margin, "--margin"), div, outside_share
    )
    s = light.screen
    ms = tl.tables.get("market_shares")
    try:
        return [
            price_effects(
                e,
                market_shares_of(ms, e.market_id, e.period),
                s.acquirer_group,
                s.target_id,
                evidence,
            )
            for e in s.effects
        ]
    except ValueError as exc:
        _fail(f"price effects: {exc}")


def _traffic_light(lake: Path, tables: dict[str, Any] | None = None) -> Any:
    """The traffic light over a lake's tables (read once), with platform grades."""
    from fairwatch.law import default_store
    from fairwatch.structure.grading import grade_lookup
    from fairwatch.structure.traffic_light import TrafficLight

    law = default_store()
    tables = tables if tables is not None else _tables(lake)
    return TrafficLight(law, tables, grade_of=grade_lookup(tables, law))


def _lights(lake: Path, deal_ids: list[str] | None, as_of: date | None) -> list[Any]:
    try:
        tl = _traffic_light(lake)
        if deal_ids:
            return [tl.deal(d, as_of=as_of) for d in deal_ids]
        return tl.all(as_of=as_of)
    except FairwatchError as exc:
        _fail(str(exc))


def _show(lights: list[Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([light.to_dict() for light in lights], ensure_ascii=False, indent=2))
        return
    summary = Table("deal", "light", "notification", "acquirer group", "target", "reasons")
    for light in lights:
        s = light.screen
        summary.add_row(
            light.deal_id,
            f"[{_COLOURS[light.colour]}]{light.colour}[/]",
            s.status.replace("_", " "),
            s.acquirer_group,
            s.target_id,
            ", ".join(r.code for r in light.reasons) or "-",
        )
    console.print(summary)
    if len(lights) == 1:
        light = lights[0]
        for reason in light.reasons:
            console.print(
                f"[{_COLOURS[reason.colour]}]{reason.colour}[/] [bold]{reason.code}[/]: "
                f"{escape(reason.text)}  [dim]{', '.join(reason.citations)}[/]"
            )
            for f in reason.figures:
                console.print(f"    {escape(_figure(f))}")
        s = light.screen
        shown = {id(f) for r in light.reasons for f in r.figures}
        if s.figures and not all(id(f) in shown for f in s.figures):
            console.print(f"notification test ({s.status.replace('_', ' ')}): {escape(s.reason)}")
            for f in s.figures:
                console.print(f"    {escape(_figure(f))}")
        for e in s.effects:
            console.print(
                f"  market {escape(e.market_id)} {escape(e.market_name)} {e.period}: shares "
                f"{e.acquirer_share:.1f} + {e.target_share:.1f} = {e.combined_share:.1f} %, HHI "
                f"{e.hhi_pre:.0f} -> {e.hhi_post:.0f} (+{e.delta:.0f}), dominance "
                f"{e.dominance or 'no'}, simple case {'yes' if e.simple_case else 'no'}, "
                f"EU band {e.eu_band}"
            )


def _figure(f: Any) -> str:
    verdict = {True: "met", False: "not met", None: "not assessed"}[f.passed]
    threshold = "" if f.threshold is None else f" vs {_fmt(f.threshold)}"
    where = f" [{f.citation}]" if f.citation else ""
    note = f" ({f.note})" if f.note else ""
    return f"{f.name}: {_fmt(f.value)}{threshold}: {verdict}{where}{note}"


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 1e6:
        return _money(value)
    return f"{value:,.4g}"


def _money(value: float | None) -> str:
    if value is None:
        return "n/a"
    for size, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.2f} {unit} yuan"
    return f"{value:,.2f} yuan"


def print_lights_summary(out: Console, lake: Path, as_of: date | None = None) -> None:
    """The capital traffic light of every deal in a lake, as the demo prints it."""
    tables = _tables(lake)
    if "deals" not in tables or "financials" not in tables:
        return
    lights = _traffic_light(lake, tables).all(as_of=as_of)
    counts = {c: sum(1 for light in lights if light.colour == c) for c in _COLOURS}
    table = Table(
        "deal",
        "light",
        "reasons",
        title="capital traffic light: "
        + ", ".join(f"{n} {c}" for c, n in counts.items())
        + " (fairwatch deal screen --lake ... --deal ID for the figures)",
        title_justify="left",
    )
    for light in sorted(lights, key=lambda x: (-_RANK[x.colour], x.deal_id)):
        if light.colour == "green":
            continue
        table.add_row(
            light.deal_id,
            f"[{_COLOURS[light.colour]}]{light.colour}[/]",
            ", ".join(r.code for r in light.reasons),
        )
    out.print(table)


_RANK = {"red": 2, "yellow": 1, "green": 0}
