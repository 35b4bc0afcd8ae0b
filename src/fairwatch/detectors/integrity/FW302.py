"""FW302 integrity.account_farm."""

from __future__ import annotations

import math
from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd

from fairwatch.detectors.base import Context, Detector, severity_from_bands
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.detectors.integrity.graph import LinkedCluster, bursty_clusters
from fairwatch.engine import LOCAL_UTC_OFFSET_HOURS

#: Identifier columns of ``accounts`` that link accounts of one platform.
IDENTIFIERS = ("device_hash", "phone_hash", "ip_prefix")


def shared_identifier_links(accounts: ir.Table) -> ir.Table:
    """One row per account and identifier value shared with another account of the same
    platform: ``platform_id``, ``user_id``, ``registered_at``, ``kind``, ``value``."""
    parts = [
        accounts.filter(accounts[kind].notnull()).select(
            platform_id=accounts.platform_id,
            user_id=accounts.user_id,
            registered_at=accounts.registered_at,
            kind=ibis.literal(kind),
            value=accounts[kind],
        )
        for kind in IDENTIFIERS
    ]
    links = ibis.union(*parts, distinct=True)
    sharing = links.user_id.count().over(group_by=[links.platform_id, links.kind, links.value])
    links = links.mutate(sharing=sharing)
    return links.filter(links.sharing >= 2).drop("sharing")


class AccountFarm(Detector):
    """Accounts linked by a shared device, phone or network, registered in one burst.

    **What it detects**

    Clusters of accounts on one platform that share a ``device_hash``, ``phone_hash``
    or ``ip_prefix`` (directly or through a chain of shared identifiers) and were
    registered in a burst — many accounts within hours — rather than over time: account
    farms that supply fake reviews, fake orders and fake traffic. The cluster is
    reported as ``cluster:`` + its smallest ``user_id`` with every member listed.

    **Why it matters**

    Bulk-registered accounts are the raw material of fabricated transactions and
    reviews (E-Commerce Law art. 17; AUCL 2019 art. 8; SAMR Interim Provisions on
    Anti-Unfair Competition on the Internet) and defeat real-name registration, one
    person holding many identities (Cybersecurity Law art. 24).

    **Method**

    The engine keeps, per platform, the identifier values held by at least two
    accounts, with each holder's registration time. Accounts and identifier values form
    a bipartite graph whose connected components (``scipy.sparse.csgraph``) are the
    linked groups. In a group of at least ``cn.detection.integrity.min_cluster_accounts``
    accounts, the densest window of ``cn.detection.integrity.burst_window_hours`` is
    found, its members set aside and the search repeated (several waves of one farm).
    Each wave is tested against the group's organic spread: its other registrations,
    spread over the group's registration span, give the expected count in one window
    λ; the p-value is the Poisson tail ``P(X >= wave size)`` times the number of
    windows in the span (a scan-statistic bound). Benjamini–Hochberg q-values are taken
    across all waves of all platforms; waves with q at most ``cn.detection.fdr_q`` and at
    least the minimum size form the cluster. A campus or office network whose members
    sign up days apart has a high organic rate and no surprising wave; a household
    sharing a device is below the minimum size. The statistics give the cluster's size,
    the linked group's size, the burst's duration, the identifiers shared and the test.

    **Known limitations**

    Accounts registered over weeks by a patient operator, or through identifiers that
    are never shared (fresh devices and numbers for each account), are not linked or
    not bursty and are missed. Identifiers reported only at review time are not used
    here (FW301 uses them). A genuine mass sign-up through one network (an in-store
    promotion, a company onboarding its staff) looks like a farm and needs a human look.
    """

    code = "FW302"
    name = "integrity.account_farm"
    family = "integrity.fake_accounts"
    legal_basis = (
        "cn.ecommerce_law.art17",
        "cn.aucl2019.art8",
        "cn.online_unfair_competition_provisions",
        "cn.cybersecurity_law.art24",
    )
    parameters = (
        "cn.detection.fdr_q",
        "cn.detection.integrity.burst_window_hours",
        "cn.detection.integrity.min_cluster_accounts",
        "cn.detection.integrity.severity_cluster_accounts",
    )
    inputs = {
        "accounts": (
            "user_id",
            "platform_id",
            "registered_at",
            "device_hash",
            "phone_hash",
            "ip_prefix",
        ),
    }

    def summarize(self, ctx: Context) -> ir.Table:
        return shared_identifier_links(ctx.table("accounts"))

    def judge(self, ctx: Context, summary: pd.DataFrame) -> list[Finding]:
        window = float(ctx.param("cn.detection.integrity.burst_window_hours"))
        min_accounts = int(ctx.param("cn.detection.integrity.min_cluster_accounts"))
        q_max = float(ctx.param("cn.detection.fdr_q"))
        bands = ctx.param("cn.detection.integrity.severity_cluster_accounts")
        clusters = bursty_clusters(summary, window, min_accounts, q_max)
        ctx.log.debug("%d linked bursty clusters", len(clusters))
        return [self._finding(ctx, c, window, min_accounts, bands) for c in clusters]

    def _finding(
        self,
        ctx: Context,
        cluster: LinkedCluster,
        window: float,
        min_accounts: int,
        bands: dict[str, float],
    ) -> Finding:
        size = len(cluster.members)
        return self.finding(
            ctx,
            subject_id=f"cluster:{cluster.members[0]}",
            platform_id=cluster.platform_id,
            period_start=_local_day(cluster.first_registered),
            period_end=_local_day(cluster.last_registered),
            severity=severity_from_bands(size, bands),
            score=round((1 - cluster.qvalue) * (1 - math.exp(-size / min_accounts)), 6),
            statistics={
                "accounts": size,
                "linked_accounts": cluster.linked,
                "burst_hours": round(cluster.burst_hours, 3),
                "window_hours": window,
                "first_registered": cluster.first_registered.isoformat(),
                "last_registered": cluster.last_registered.isoformat(),
                "shared_identifiers": cluster.shared,
                "largest_share_on_one_identifier": cluster.largest_share,
                "expected_in_window": cluster.expected_in_window,
                "p_value": cluster.pvalue,
                "q_value": cluster.qvalue,
                "test": "Poisson scan bound on the densest registration window against the "
                "linked group's other registrations; BH across waves",
            },
            evidence=[
                Evidence(
                    "accounts",
                    cluster.members,
                    note="every account of the cluster (user_id on the platform)",
                )
            ],
        )


def _local_day(ts: pd.Timestamp) -> date:
    """The China local calendar day of a UTC timestamp (as the engine's ``local_date``)."""
    utc = pd.Timestamp(ts).tz_convert("UTC")
    return (utc + pd.Timedelta(hours=LOCAL_UTC_OFFSET_HOURS)).date()
