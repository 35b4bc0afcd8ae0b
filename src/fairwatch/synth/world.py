"""The reference population of a synthetic provincial (Zhejiang) platform market.

:func:`build_world` makes, from ``(seed, scale)`` alone:

* ``entities`` — company groups with ownership chains of three to five levels (offshore
  holding → investment company → technology company → platform operator → self-operated
  retail subsidiary), VIE, board and agreement control, state and fund owners with
  minority stakes, brand owners, and the merchants' entities (many of them individual
  businesses). Every domestic entity has a valid USCC whose region part is its region.
* ``financials`` — consolidated turnover and market value for the three fiscal years
  before the market period: two super-platform groups (China turnover > 100 bn, market
  value > 1 trillion), several large groups (valuation > 100 bn), small ones.
* ``ownership`` — dated equity and control edges, some ended (``valid_to``).
* ``platforms`` and ``platform_metrics`` (yearly and monthly), with rivals in each
  category: online sales, life services (delivery, mobility), social, information,
  financial services, computing.
* ``merchants`` — stores on the online-sales and life-services platforms; a share of each
  sales platform's stores is self-operated by the operator's group; about 35 % of the
  third-party merchant entities multi-home (stores on two or three platforms of the same
  category, selling the same product line).
* ``products`` and ``sku_prices`` — offers in sixteen realistic categories with
  log-normal regular prices; comparable goods on several merchants and platforms.
* ``users`` and ``accounts`` — pseudonymous users (``u_`` + 12 hex digits of a hash) with
  a home platform and often accounts on other platforms; accounts share a device or an IP
  prefix only within small households.

``world.info`` keys (for the planting modules):

``multihoming_entities``
    sorted list of the entity ids that have stores on two or more platforms.
``group_of``
    ``{entity_id: top holding entity_id}`` for every entity of a company group.
``platform_group``
    ``{platform_id: top holding entity_id}`` of each platform's operator.
``sales_platforms``
    platform ids that have merchants (online sales and life services).
``category_sector``
    ``{product category: merchant sector}`` (the merchants' ``category`` is the sector).
``regional_categories`` / ``peak_categories``
    product categories whose list price depends on the user's city / on the hour.
``standardised_categories``
    categories of standardised goods with naturally low price dispersion.
``account_attrs``
    a frame aligned row by row with ``frames["accounts"]``: ``user_id``,
    ``platform_id``, ``tenure_days`` (account age at the start of the period) and
    ``is_member`` (paying member on that platform).
``zhejiang_districts`` / ``other_regions``
    the district codes used for regions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fairwatch.contract.identifiers import USCC_ALPHABET, uscc_check_char
from fairwatch.synth.core import Scale, World

log = logging.getLogger(__name__)

DEFAULT_START = date(2025, 3, 1)
HOME_PROVINCE = "330000"

#: Zhejiang districts: code, name, weight (rough population / commerce share).
ZJ_DISTRICTS: tuple[tuple[str, str, float], ...] = (
    ("330102", "杭州市上城区", 8),
    ("330105", "杭州市拱墅区", 6),
    ("330106", "杭州市西湖区", 8),
    ("330108", "杭州市滨江区", 6),
    ("330109", "杭州市萧山区", 6),
    ("330110", "杭州市余杭区", 7),
    ("330203", "宁波市海曙区", 5),
    ("330212", "宁波市鄞州区", 5),
    ("330302", "温州市鹿城区", 6),
    ("330402", "嘉兴市南湖区", 4),
    ("330502", "湖州市吴兴区", 3),
    ("330602", "绍兴市越城区", 4),
    ("330702", "金华市婺城区", 3),
    ("330782", "义乌市", 6),
    ("330802", "衢州市柯城区", 2),
    ("330902", "舟山市定海区", 2),
    ("331002", "台州市椒江区", 3),
    ("331102", "丽水市莲都区", 2),
)
OTHER_REGIONS: tuple[tuple[str, str], ...] = (
    ("310115", "上海市浦东新区"),
    ("110105", "北京市朝阳区"),
    ("440305", "深圳市南山区"),
    ("320505", "苏州市虎丘区"),
    ("440106", "广州市天河区"),
    ("350206", "厦门市湖里区"),
    ("510107", "成都市武侯区"),
    ("420111", "武汉市洪山区"),
)

#: Merchant sectors (``merchants.category``) and the product categories they sell.
SECTORS: dict[str, tuple[str, ...]] = {
    "fresh_food": ("groceries", "pork", "vegetables", "fruit"),
    "grain_oil": ("cooking_oil", "rice"),
    "pharmacy": ("masks", "medicine"),
    "electronics": ("electronics", "home_appliances"),
    "fashion": ("apparel", "cosmetics"),
    "mother_baby": ("baby_formula",),
    "books": ("books",),
    "restaurant": ("food_delivery_meal",),
    "hotel": ("hotel_room",),
    "mobility": ("ride_economy", "ride_premium"),
}
SECTOR_INDUSTRY = {
    "fresh_food": "5223",
    "grain_oil": "5221",
    "pharmacy": "5251",
    "electronics": "5273",
    "fashion": "5232",
    "mother_baby": "5229",
    "books": "5243",
    "restaurant": "6210",
    "hotel": "6110",
    "mobility": "5412",
}
SECTOR_SHOP = {
    "fresh_food": "生鲜",
    "grain_oil": "粮油",
    "pharmacy": "大药房",
    "electronics": "数码",
    "fashion": "服饰",
    "mother_baby": "母婴",
    "books": "书店",
    "restaurant": "餐厅",
    "hotel": "酒店",
    "mobility": "汽车服务",
}
#: Median regular price (yuan) and log-normal sigma per product category.
CATEGORY_PRICE: dict[str, tuple[float, float]] = {
    "groceries": (25, 0.6),
    "pork": (28, 0.25),
    "vegetables": (7, 0.4),
    "fruit": (30, 0.4),
    "cooking_oil": (70, 0.25),
    "rice": (45, 0.3),
    "masks": (25, 0.4),
    "medicine": (30, 0.5),
    "electronics": (900, 1.0),
    "home_appliances": (600, 0.8),
    "apparel": (160, 0.6),
    "cosmetics": (180, 0.6),
    "baby_formula": (260, 0.25),
    "books": (45, 0.4),
    "hotel_room": (380, 0.45),
    "ride_economy": (28, 0.3),
    "ride_premium": (70, 0.3),
    "food_delivery_meal": (30, 0.35),
}
CATEGORY_ITEMS: dict[str, tuple[str, ...]] = {
    "groceries": (
        "抽纸24包",
        "洗衣液3kg",
        "纯牛奶250ml×12盒",
        "土鸡蛋30枚",
        "方便面5连包",
        "矿泉水550ml×24瓶",
    ),
    "pork": ("猪五花肉500g", "猪前腿肉1kg", "猪肋排500g", "猪里脊肉500g"),
    "vegetables": ("西红柿500g", "大白菜1颗", "土豆2.5kg", "上海青500g", "黄瓜500g"),
    "fruit": ("红富士苹果5斤", "香蕉3斤", "赣南脐橙5kg", "丹东草莓2斤"),
    "cooking_oil": ("压榨花生油5L", "菜籽油5L", "玉米油4L", "大豆油5L"),
    "rice": ("东北大米5kg", "五常大米10kg", "籼米10kg"),
    "masks": ("一次性医用口罩50只", "N95防护口罩20只", "儿童医用口罩30只"),
    "medicine": (
        "布洛芬缓释胶囊24粒",
        "感冒灵颗粒10袋",
        "维生素C片100片",
        "退热贴6贴",
        "板蓝根颗粒20袋",
    ),
    "electronics": ("蓝牙耳机", "智能手机128G", "平板电脑", "充电宝20000mAh", "智能手表"),
    "home_appliances": ("空气炸锅", "电饭煲4L", "扫地机器人", "电热水壶", "变频空调1.5匹"),
    "apparel": ("纯棉T恤", "轻薄羽绒服", "直筒牛仔裤", "透气运动鞋", "连衣裙"),
    "cosmetics": ("保湿面霜50ml", "丝绒口红", "防晒霜SPF50", "修护精华液30ml"),
    "baby_formula": ("婴儿配方奶粉1段800g", "较大婴儿配方奶粉2段800g", "幼儿配方奶粉3段800g"),
    "books": ("长篇小说精装版", "少儿绘本套装", "考研英语词汇", "编程入门教程"),
    "hotel_room": ("大床房", "商务标准间", "亲子家庭房", "湖景套房"),
    "ride_economy": ("快车", "拼车"),
    "ride_premium": ("专车", "豪华车"),
    "food_delivery_meal": (
        "黄焖鸡米饭",
        "麻辣烫",
        "牛肉拉面",
        "汉堡套餐",
        "小龙虾盖饭",
        "沙县小吃套餐",
    ),
}
BRANDED = {
    "electronics": 0.85,
    "home_appliances": 0.85,
    "cosmetics": 0.8,
    "baby_formula": 0.9,
    "apparel": 0.6,
    "medicine": 0.5,
    "cooking_oil": 0.6,
    "groceries": 0.3,
    "masks": 0.3,
}
REGIONAL_CATEGORIES = ("hotel_room", "ride_economy", "ride_premium", "food_delivery_meal")
PEAK_CATEGORIES = ("ride_economy", "ride_premium")
STANDARDISABLE = ("cooking_oil", "rice", "baby_formula", "masks")
TECH = ("electronics", "home_appliances")

_NAME_PARTS = tuple("华鑫瑞恒鼎泰嘉禾远盛联创欣荣丰源达顺宏兴汇佳和美新锦辰祥云峰海德信诚益康润安")


@dataclass(frozen=True)
class GroupSpec:
    code: str
    stem: str
    offshore: bool  # listed offshore through a VIE structure
    region: str
    turnover_bn: tuple[float, float]  # China turnover, latest year
    value_bn: tuple[float, float]  # market value, latest year
    founded: int


@dataclass(frozen=True)
class PlatformSpec:
    platform_id: str
    name: str
    categories: tuple[str, ...]
    group: str
    suffix: str  # operator company name part
    industry: str
    active_m: float  # annual active users (millions), latest year
    launched: int
    sectors: tuple[tuple[str, float], ...] = ()  # sectors of its stores (sales platforms)
    store_weight: float = 0.0
    self_sectors: tuple[str, ...] = ()
    member_share: float = 0.2


GROUPS: dict[str, GroupSpec] = {
    g.code: g
    for g in (
        GroupSpec("A", "云集", True, "330108", (600, 900), (1500, 2600), 1999),
        GroupSpec("B", "拼乐", True, "330106", (150, 250), (500, 800), 2014),
        GroupSpec("C", "速达", True, "330102", (200, 300), (600, 900), 2010),
        GroupSpec("D", "快行", True, "330110", (120, 200), (200, 400), 2012),
        GroupSpec("E", "微联", True, "330106", (500, 650), (2500, 3500), 1998),
        GroupSpec("F", "优品", False, "330108", (30, 60), (50, 150), 2008),
        GroupSpec("G", "新知", True, "330105", (80, 150), (150, 300), 2012),
        GroupSpec("H", "京选", False, "330212", (5, 20), (10, 40), 2011),
    )
}

_ONLINE = (
    ("fresh_food", 0.22),
    ("grain_oil", 0.07),
    ("pharmacy", 0.14),
    ("electronics", 0.16),
    ("fashion", 0.2),
    ("mother_baby", 0.08),
    ("books", 0.06),
)
PLATFORMS: tuple[PlatformSpec, ...] = (
    PlatformSpec(
        "P01",
        "云集购",
        ("online_sales",),
        "A",
        "电子商务",
        "6431",
        900,
        2003,
        _ONLINE,
        1.4,
        ("electronics", "fresh_food", "mother_baby", "grain_oil"),
        0.25,
    ),
    PlatformSpec(
        "P02",
        "拼乐多",
        ("online_sales",),
        "B",
        "电子商务",
        "6431",
        750,
        2015,
        _ONLINE,
        1.2,
        ("fresh_food", "grain_oil", "pharmacy"),
        0.15,
    ),
    PlatformSpec(
        "P03",
        "速达生活",
        ("life_services",),
        "C",
        "生活服务",
        "6432",
        650,
        2010,
        (
            ("restaurant", 0.45),
            ("fresh_food", 0.18),
            ("pharmacy", 0.14),
            ("hotel", 0.15),
            ("mobility", 0.08),
        ),
        1.1,
        ("fresh_food", "mobility"),
        0.3,
    ),
    PlatformSpec(
        "P04",
        "快行出行",
        ("life_services",),
        "D",
        "出行服务",
        "6432",
        180,
        2012,
        (("mobility", 0.5), ("hotel", 0.5)),
        0.5,
        ("mobility",),
        0.1,
    ),
    PlatformSpec(
        "P05",
        "微聊",
        ("social_entertainment", "financial_services"),
        "E",
        "社交网络",
        "6429",
        1100,
        2011,
    ),
    PlatformSpec(
        "P06",
        "优品商城",
        ("online_sales",),
        "F",
        "电子商务",
        "6431",
        35,
        2009,
        _ONLINE,
        0.7,
        ("electronics", "mother_baby"),
        0.2,
    ),
    PlatformSpec("P07", "新知头条", ("information",), "G", "信息服务", "6429", 260, 2012),
    PlatformSpec("P08", "云付", ("financial_services",), "A", "金融信息服务", "6930", 700, 2004),
    PlatformSpec(
        "P09",
        "饿了香",
        ("life_services",),
        "E",
        "本地生活",
        "6432",
        120,
        2009,
        (("restaurant", 0.55), ("fresh_food", 0.2), ("pharmacy", 0.15), ("hotel", 0.1)),
        0.8,
        ("fresh_food",),
        0.25,
    ),
    PlatformSpec("P10", "云算", ("computing_applications",), "A", "云计算", "6450", 30, 2009),
    PlatformSpec("P11", "抖趣", ("social_entertainment",), "G", "短视频", "6422", 420, 2016),
    PlatformSpec(
        "P12",
        "京选商城",
        ("online_sales",),
        "H",
        "电子商务",
        "6431",
        12,
        2013,
        _ONLINE,
        0.5,
        ("fresh_food",),
        0.15,
    ),
)

_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)


def local_midnight_utc(day: date) -> datetime:
    """The UTC instant of 00:00 Asia/Shanghai (UTC+8) on ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=8)


# --------------------------------------------------------------------------- helpers


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """A vectorised 64-bit mixing hash (splitmix64 finaliser)."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def hex_tokens(values: np.ndarray, digits: int, prefix: str) -> np.ndarray:
    """``prefix`` + the lowest ``digits`` hex digits of each uint64, as an object array of str."""
    v = values.astype(np.uint64)
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    width = len(head) + digits
    codes = np.empty((len(v), width), dtype=np.uint8)
    codes[:, : len(head)] = head
    for k in range(digits):
        nibble = ((v >> np.uint64(4 * (digits - 1 - k))) & np.uint64(0xF)).astype(np.uint8)
        codes[:, len(head) + k] = (
            nibble + np.uint8(48) + (nibble > 9).astype(np.uint8) * np.uint8(39)
        )
    raw = codes.view(f"S{width}").ravel()
    return pc.cast(pa.array(raw, type=pa.binary()), pa.string()).to_numpy(zero_copy_only=False)


def unique_hash_tokens(seed: int, salt: int, n: int, digits: int, prefix: str) -> np.ndarray:
    """``n`` distinct opaque tokens hashed from ``(seed, salt, index)``."""
    base = np.arange(n, dtype=np.uint64)
    mask = np.uint64((1 << (4 * digits)) - 1)
    key = _splitmix64(
        np.array([seed & 0xFFFFFFFF], dtype=np.uint64) * np.uint64(0x100000001B3) + np.uint64(salt)
    )[0]
    h = _splitmix64(base ^ key) & mask
    bump = np.uint64(1)
    while True:
        _, first = np.unique(h, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        h[dup] = _splitmix64(h[dup] + bump) & mask
        bump += np.uint64(1)
    return hex_tokens(h, digits, prefix)


def _largest_remainder(total: int, weights: np.ndarray, minimum: int = 0) -> np.ndarray:
    """Integer counts summing to ``total``, proportional to ``weights``, each >= ``minimum``."""
    w = np.asarray(weights, dtype=float)
    k = len(w)
    rest = total - minimum * k
    if rest < 0:
        raise ValueError("total too small for the minimum")
    raw = rest * w / w.sum()
    counts = np.floor(raw).astype(int)
    short = rest - counts.sum()
    if short:
        counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1
    return counts + minimum


class _Entities:
    """Accumulates entities with valid, unique USCCs."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.rows: list[dict[str, object]] = []
        self._usccs: set[str] = set()

    def uscc(self, kind: str, region: str) -> str:
        prefix = {"company": "91", "individual_business": "92", "state": "11", "fund": "91"}.get(
            kind, "93"
        )
        while True:
            org = "".join(self.rng.choice(list(USCC_ALPHABET), 9))
            first17 = prefix + region + org
            code = first17 + uscc_check_char(first17)
            if code not in self._usccs:
                self._usccs.add(code)
                return code

    def add(
        self,
        name: str,
        kind: str,
        region: str | None,
        industry: str | None,
        established: date,
        licenses: list[str] | None = None,
        domestic: bool = True,
    ) -> str:
        entity_id = f"E{len(self.rows) + 1:06d}"
        self.rows.append(
            {
                "entity_id": entity_id,
                "name": name,
                "uscc": self.uscc(kind, region) if domestic and region else None,
                "kind": kind,
                "region_code": region,
                "industry_code": industry,
                "established_on": established,
                "licenses": licenses or None,
            }
        )
        return entity_id

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def _rand_date(rng: np.random.Generator, lo: date, hi: date) -> date:
    span = max((hi - lo).days, 0)
    return lo + timedelta(days=int(rng.integers(0, span + 1)))


def _word(rng: np.random.Generator) -> str:
    return "".join(rng.choice(list(_NAME_PARTS), 2, replace=False))


# --------------------------------------------------------------------------- build


def build_world(
    seed: int, scale: Scale, *, violations: bool = True, start: date | None = None
) -> World:
    """The reference population of a market (see the module docstring)."""
    start = start or DEFAULT_START
    world = World(
        seed=seed,
        scale=scale,
        start=start,
        end=start + timedelta(days=scale.days),
        home_province=HOME_PROVINCE,
        violations=violations,
    )
    specs = list(PLATFORMS[: max(1, min(scale.platforms, len(PLATFORMS)))])
    _build_corporate(world, specs)
    _build_merchants(world, specs)
    _build_products(world)
    _build_users(world, specs)
    _build_metrics(world, specs)
    world.frames.setdefault("emergencies", pd.DataFrame())
    log.info("world: %s", {k: len(v) for k, v in world.frames.items()})
    return world


def _build_corporate(world: World, specs: list[PlatformSpec]) -> None:
    rng = world.rng_for("world:corporate")
    ents = _Entities(world.rng_for("world:uscc"))
    own: list[dict[str, object]] = []
    fin: list[dict[str, object]] = []
    group_of: dict[str, str] = {}
    established: dict[str, date] = {}
    years = [world.start.year - 3, world.start.year - 2, world.start.year - 1]
    cutoff = world.start - timedelta(days=400)

    def add(
        name: str,
        kind: str,
        region: str | None,
        industry: str | None,
        est: date,
        licenses: list[str] | None = None,
        domestic: bool = True,
        group: str | None = None,
    ) -> str:
        eid = ents.add(name, kind, region, industry, est, licenses, domestic)
        established[eid] = est
        if group:
            group_of[eid] = group
        return eid

    def edge(
        owner: str,
        owned: str,
        share: float | None,
        control: str = "equity",
        voting: float | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> None:
        lo = max(established[owner], established[owned])
        valid_from = (
            since if since and since >= lo else lo + timedelta(days=int(rng.integers(0, 120)))
        )
        own.append(
            {
                "owner_id": owner,
                "owned_id": owned,
                "share_pct": share,
                "voting_pct": share if voting is None else voting,
                "control": control,
                "valid_from": valid_from,
                "valid_to": until,
            }
        )

    def financials(eid: str, turnover_bn: float, value_bn: float | None, abroad: float) -> None:
        growth = rng.uniform(1.03, 1.2)
        for i, year in enumerate(reversed(years)):
            china = turnover_bn * 1e9 / growth**i * rng.uniform(0.97, 1.03)
            fin.append(
                {
                    "entity_id": eid,
                    "fiscal_year": year,
                    "global_turnover_cny": round(china * (1 + abroad), 2),
                    "china_turnover_cny": round(china, 2),
                    "market_value_cny": None
                    if value_bn is None
                    else round(value_bn * 1e9 / growth**i * rng.uniform(0.85, 1.15), 2),
                }
            )

    # Owners outside the groups: the provincial state-asset body, its capital company, funds.
    state = add(
        "浙江省人民政府国有资产监督管理委员会", "state", HOME_PROVINCE, "9221", date(2004, 6, 1)
    )
    state_cap = add("浙江省国有资本运营有限公司", "company", "330102", "7212", date(2007, 2, 14))
    edge(state, state_cap, 100.0, since=date(2007, 2, 14))
    funds = [
        add(
            f"{city}{_word(rng)}股权投资合伙企业（有限合伙）",
            "fund",
            region,
            "7212",
            _rand_date(rng, date(2006, 1, 1), date(2016, 12, 31)),
            ["securities"] if i == 0 else None,
        )
        for i, (region, city) in enumerate(
            (("330106", "杭州"), ("330212", "宁波"), ("310115", "上海"), ("440305", "深圳"))
        )
    ]
    national_fund = add(
        "国家互联网产业投资基金（有限合伙）", "fund", "110105", "7212", date(2014, 9, 26)
    )

    holdings: dict[str, str] = {}
    operators: dict[str, str] = {}
    selfops: dict[str, str] = {}
    for code, g in GROUPS.items():
        founded = date(g.founded, 1, 1) + timedelta(days=int(rng.integers(0, 300)))
        hold_name = f"{g.stem}控股有限公司" if g.offshore else f"浙江{g.stem}集团股份有限公司"
        hold = add(
            hold_name,
            "company",
            None if g.offshore else g.region,
            "7211",
            founded,
            domestic=not g.offshore,
        )
        group_of[hold] = hold
        holdings[code] = hold
        inv = add(
            f"{g.stem}（中国）投资有限公司",
            "company",
            g.region,
            "7212",
            founded + timedelta(days=int(rng.integers(200, 900))),
            group=hold,
        )
        edge(hold, inv, 100.0)
        tech = add(
            f"浙江{g.stem}网络技术有限公司",
            "company",
            g.region,
            "6513",
            established[inv] + timedelta(days=int(rng.integers(100, 700))),
            group=hold,
        )
        edge(inv, tech, 100.0)
        value = rng.uniform(*g.value_bn)
        turnover = rng.uniform(*g.turnover_bn)
        financials(hold, turnover, value, rng.uniform(0.02, 0.15))
        for spec in (s for s in PLATFORMS if s.group == code):
            licenses: list[str] = []
            if "information" in spec.categories:
                licenses = ["news_information"]
            op = add(
                f"浙江{g.stem}{spec.suffix}有限公司",
                "company",
                g.region,
                spec.industry,
                date(spec.launched, 1, 1) - timedelta(days=int(rng.integers(30, 400))),
                licenses,
                group=hold,
            )
            operators[spec.platform_id] = op
            if spec.platform_id == "P08":
                # The financial affiliate: a minority stake plus control by agreement.
                edge(hold, op, 33.0, control="agreement", voting=33.0)
                lend = add(
                    "浙江云付小额贷款有限公司",
                    "company",
                    g.region,
                    "6637",
                    established[op] + timedelta(days=900),
                    ["online_lending"],
                    group=hold,
                )
                edge(op, lend, 100.0)
                ins = add(
                    "云付保险代理有限公司",
                    "company",
                    g.region,
                    "6852",
                    established[op] + timedelta(days=1500),
                    ["insurance"],
                    group=hold,
                )
                edge(op, ins, 100.0)
                edge(state_cap, op, 5.0)
            elif g.offshore:
                edge(tech, op, 0.0, control="vie", voting=100.0)
            else:
                edge(tech, op, 100.0)
            financials(op, turnover * rng.uniform(0.15, 0.6), None, 0.0)
            if spec.self_sectors:
                self_co = add(
                    f"浙江{spec.name}自营商贸有限公司",
                    "company",
                    g.region,
                    "5292",
                    max(established[op], date(spec.launched, 6, 1)) + timedelta(days=200),
                    group=hold,
                )
                if spec.platform_id == "P04":
                    # Ride service run by a 45 % affiliate controlled through the board.
                    edge(tech, self_co, 45.0, control="board", voting=45.0)
                else:
                    edge(op, self_co, 100.0)
                selfops[spec.platform_id] = self_co
            if spec.platform_id == "P05":
                pay = add(
                    "微联支付科技有限公司",
                    "company",
                    g.region,
                    "6930",
                    established[op] + timedelta(days=1200),
                    ["payment"],
                    group=hold,
                )
                edge(op, pay, 100.0)
                loan = add(
                    "微联小额贷款有限公司",
                    "company",
                    g.region,
                    "6637",
                    established[op] + timedelta(days=2000),
                    ["online_lending"],
                    group=hold,
                )
                edge(op, loan, 100.0)
            if spec.platform_id == "P07":
                edge(state_cap, op, 1.0)  # a special management share
        if code == "A":
            fin_op = operators.get("P08")
            if fin_op is not None:
                ents.rows[int(fin_op[1:]) - 1]["licenses"] = ["payment", "credit_reporting"]
    # Funds' minority stakes, some ended or changed.
    edge(funds[0], holdings["B"], 8.0)
    edge(funds[1], holdings["C"], 12.0, until=cutoff - timedelta(days=365))
    edge(funds[1], holdings["C"], 6.0, since=cutoff - timedelta(days=364))
    edge(funds[2], holdings["F"], 15.0)
    edge(funds[3], holdings["D"], 10.0, until=cutoff)
    edge(national_fund, holdings["G"], 4.0)
    edge(state_cap, holdings["H"], 20.0)
    edge(funds[0], holdings["H"], 9.0)

    # Brand owners (manufacturers); a few belong to platform groups.
    brand_cats = (
        "electronics",
        "home_appliances",
        "cosmetics",
        "baby_formula",
        "apparel",
        "medicine",
        "cooking_oil",
        "groceries",
        "masks",
    )
    brand_industry = {
        "electronics": "3922",
        "home_appliances": "3854",
        "cosmetics": "2682",
        "baby_formula": "1442",
        "apparel": "1810",
        "medicine": "2720",
        "cooking_oil": "1331",
        "groceries": "1439",
        "masks": "2770",
    }
    brands: dict[str, list[str]] = {}
    n_brands = max(2, round(3 + world.scale.skus / 800))
    for cat in brand_cats:
        ids = []
        for _ in range(n_brands):
            district = (
                ZJ_DISTRICTS[int(rng.integers(len(ZJ_DISTRICTS)))][0]
                if rng.random() < 0.5
                else OTHER_REGIONS[int(rng.integers(len(OTHER_REGIONS)))][0]
            )
            bid = add(
                f"{_word(rng)}{_word(rng)}{'科技' if cat in TECH else '实业'}有限公司",
                "company",
                district,
                brand_industry[cat],
                _rand_date(rng, date(1995, 1, 1), date(2018, 12, 31)),
            )
            financials(
                bid,
                float(np.exp(rng.uniform(np.log(0.2), np.log(60)))),
                float(np.exp(rng.uniform(np.log(1), np.log(150)))),
                rng.uniform(0, 0.4),
            )
            ids.append(bid)
        brands[cat] = ids
    # Group A and E own an electronics brand each (their self-operated stores carry it).
    for code in ("A", "E"):
        bid = brands["electronics"][0 if code == "A" else 1]
        edge(holdings[code], bid, round(float(rng.uniform(51, 100)), 1))
        group_of[bid] = holdings[code]

    world.frames["entities"] = ents.frame()
    world.frames["ownership"] = pd.DataFrame(own)
    world.frames["financials"] = pd.DataFrame(fin)
    world.info.update(
        {
            "group_of": group_of,
            "platform_group": {s.platform_id: holdings[s.group] for s in specs},
            "holdings": holdings,
            "operators": operators,
            "self_operated_entities": selfops,
            "brands": brands,
            "zhejiang_districts": [d[0] for d in ZJ_DISTRICTS],
            "other_regions": [d[0] for d in OTHER_REGIONS],
            "state_owners": [state, state_cap, national_fund],
            "funds": funds,
            "_ents": ents,
            "_established": established,
            "_fin": fin,
        }
    )
    platforms = pd.DataFrame(
        [
            {
                "platform_id": s.platform_id,
                "name": s.name,
                "operator_id": operators[s.platform_id],
                "categories": list(s.categories),
                "launched_on": date(s.launched, 1, 1) + timedelta(days=int(rng.integers(0, 300))),
            }
            for s in specs
        ]
    )
    world.frames["platforms"] = platforms


def _region_sampler(rng: np.random.Generator, n: int, zj_share: float) -> np.ndarray:
    zj_codes = np.array([d[0] for d in ZJ_DISTRICTS], dtype=object)
    zj_w = np.array([d[2] for d in ZJ_DISTRICTS], dtype=float)
    other = np.array([d[0] for d in OTHER_REGIONS], dtype=object)
    out = zj_codes[rng.choice(len(zj_codes), n, p=zj_w / zj_w.sum())]
    away = rng.random(n) >= zj_share
    out[away] = other[rng.integers(0, len(other), int(away.sum()))]
    return out


def _build_merchants(world: World, specs: list[PlatformSpec]) -> None:
    rng = world.rng_for("world:merchants")
    ents: _Entities = world.info["_ents"]
    established: dict[str, date] = world.info["_established"]
    fin: list[dict[str, object]] = world.info["_fin"]
    platforms = world.frames["platforms"].set_index("platform_id")
    sales = [s for s in specs if s.sectors]
    if not sales:
        raise ValueError("a market needs at least one online-sales or life-services platform")
    total = max(world.scale.merchants, 4 * len(sales))
    per_platform = _largest_remainder(total, np.array([s.store_weight for s in sales]), minimum=4)
    district_name = {d[0]: d[1] for d in ZJ_DISTRICTS} | dict(OTHER_REGIONS)
    rows: list[dict[str, object]] = []
    selfops: dict[str, str] = world.info["self_operated_entities"]
    period_cut = world.start - timedelta(days=7)

    def opened(pid: str, entity: str) -> date:
        lo = max(platforms.loc[pid, "launched_on"], established[entity])
        return _rand_date(rng, lo, max(lo, period_cut))

    # Self-operated stores.
    slots: list[tuple[str, str]] = []  # (platform_id, sector) of third-party stores
    for spec, n in zip(sales, per_platform, strict=True):
        n_self = min(n - 2, max(2, round(rng.uniform(0.05, 0.1) * n)))
        owner = selfops[spec.platform_id]
        for k in range(n_self):
            sector = spec.self_sectors[k % len(spec.self_sectors)]
            shop = "旗舰店" if k < len(spec.self_sectors) else f"{k + 1}号店"
            rows.append(
                {
                    "platform_id": spec.platform_id,
                    "entity_id": owner,
                    "name": f"{spec.name}自营{SECTOR_SHOP[sector]}{shop}",
                    "category": sector,
                    "region_code": ents.rows[int(owner[1:]) - 1]["region_code"],
                    "opened_on": opened(spec.platform_id, owner),
                    "self_operated": True,
                }
            )
        names = [s for s, _ in spec.sectors]
        w = np.array([x for _, x in spec.sectors])
        for sector in rng.choice(names, n - n_self, p=w / w.sum()):
            slots.append((spec.platform_id, str(sector)))

    # Third-party stores grouped into entities; ~35 % of the entities multi-home.
    cat_of = {
        s.platform_id: ("online_sales" if "online_sales" in s.categories else "life_services")
        for s in sales
    }
    pools: dict[tuple[str, str], dict[str, int]] = {}
    for pid, sector in slots:
        pool = pools.setdefault((cat_of[pid], sector), {})
        pool[pid] = pool.get(pid, 0) + 1
    # Entities are formed one at a time from a randomly chosen pool; an entity multi-homes
    # (2-3 stores on distinct platforms of the pool) while the share is below the target.
    target = 0.35
    entity_stores: list[tuple[str, list[str]]] = []  # (sector, platform ids)
    keys = sorted(pools)
    n_mh = 0
    while True:
        remaining = np.array([sum(pools[k].values()) for k in keys], dtype=float)
        if remaining.sum() == 0:
            break
        key = keys[int(rng.choice(len(keys), p=remaining / remaining.sum()))]
        pool = pools[key]
        live = [p for p, c in pool.items() if c > 0]
        w = np.array([pool[p] for p in live], dtype=float)
        below = n_mh < target * (len(entity_stores) + 1)
        if len(live) > 1 and rng.random() < (0.85 if below else 0.1):
            k = min(len(live), 3 if rng.random() < 0.3 else 2)
            chosen = [str(p) for p in rng.choice(live, k, replace=False, p=w / w.sum())]
            n_mh += 1
        else:
            chosen = [str(rng.choice(live, p=w / w.sum()))]
        for p in chosen:
            pool[p] -= 1
        entity_stores.append((key[1], chosen))
    order = rng.permutation(len(entity_stores))
    regions = _region_sampler(rng, len(entity_stores), zj_share=0.88)
    multihoming: list[str] = []
    for i in order:
        sector, pids = entity_stores[i]
        region = str(regions[i])
        company = (len(pids) > 1 and rng.random() < 0.8) or rng.random() < (
            0.75
            if sector in ("electronics", "mobility", "hotel", "mother_baby", "pharmacy")
            else 0.35
        )
        place = district_name[region]
        est = _rand_date(rng, date(2003, 1, 1), world.start - timedelta(days=200))
        word = _word(rng)
        if company:
            name = f"{place[:2]}{word}{SECTOR_SHOP[sector]}有限公司"
            eid = ents.add(name, "company", region, SECTOR_INDUSTRY[sector], est)
            if rng.random() < 0.4:
                fin.append(
                    {
                        "entity_id": eid,
                        "fiscal_year": world.start.year - 1,
                        "global_turnover_cny": None,
                        "china_turnover_cny": round(
                            float(np.exp(rng.uniform(np.log(2e6), np.log(2e9)))), 2
                        ),
                        "market_value_cny": None,
                    }
                )
        else:
            name = f"{place}{word}{SECTOR_SHOP[sector]}"
            eid = ents.add(name, "individual_business", region, SECTOR_INDUSTRY[sector], est)
        established[eid] = est
        if len(pids) > 1:
            multihoming.append(eid)
        for pid in pids:
            suffix = "旗舰店" if company else "店"
            rows.append(
                {
                    "platform_id": pid,
                    "entity_id": eid,
                    "name": f"{word}{SECTOR_SHOP[sector]}{suffix}",
                    "category": sector,
                    "region_code": region
                    if rng.random() < 0.95
                    else str(_region_sampler(rng, 1, 0.9)[0]),
                    "opened_on": opened(pid, eid),
                    "self_operated": False,
                }
            )
    merchants = pd.DataFrame(rows)
    merchants = merchants.sample(frac=1.0, random_state=np.random.RandomState(rng.integers(2**31)))
    merchants = merchants.reset_index(drop=True)
    merchants.insert(0, "merchant_id", [f"M{i + 1:06d}" for i in range(len(merchants))])
    merchants["closed_on"] = None
    world.frames["merchants"] = merchants[
        [
            "merchant_id",
            "platform_id",
            "entity_id",
            "name",
            "category",
            "region_code",
            "opened_on",
            "closed_on",
            "self_operated",
        ]
    ]
    world.frames["entities"] = ents.frame()
    world.frames["financials"] = pd.DataFrame(fin)
    world.info["multihoming_entities"] = sorted(multihoming)
    world.info["sales_platforms"] = [s.platform_id for s in sales]


def _build_products(world: World) -> None:
    rng = world.rng_for("world:products")
    merchants = world.frames["merchants"]
    brands: dict[str, list[str]] = world.info["brands"]
    group_of: dict[str, str] = world.info["group_of"]
    n_sku = max(world.scale.skus, len(merchants))
    weight = np.where(merchants["self_operated"], 4.0, 1.0) * rng.lognormal(0, 0.5, len(merchants))
    per_store = _largest_remainder(n_sku, weight, minimum=1)
    cat_weight = {
        "groceries": 3,
        "pork": 2,
        "vegetables": 2,
        "fruit": 2,
        "cooking_oil": 1,
        "rice": 1,
        "masks": 2,
        "medicine": 2,
        "electronics": 2,
        "home_appliances": 1,
        "apparel": 2,
        "cosmetics": 1,
        "baby_formula": 1,
        "books": 1,
        "hotel_room": 1,
        "ride_economy": 2,
        "ride_premium": 1,
        "food_delivery_meal": 1,
    }
    # One product line per entity (a multi-homing entity sells the same goods on each platform).
    lines: dict[str, list[dict[str, object]]] = {}
    rows: list[dict[str, object]] = []
    for (_, m), n in zip(merchants.iterrows(), per_store, strict=True):
        key = f"{m['entity_id']}|{m['category']}"
        line = lines.setdefault(key, [])
        cats = SECTORS[m["category"]]
        cw = np.array([cat_weight[c] for c in cats], dtype=float)
        group = group_of.get(m["entity_id"]) if m["self_operated"] else None
        own_brand = [
            b
            for b in brands.get("electronics", [])
            if group is not None and group_of.get(b) == group
        ]
        while len(line) < n:
            cat = str(rng.choice(cats, p=cw / cw.sum()))
            item = str(rng.choice(CATEGORY_ITEMS[cat]))
            brand = None
            if rng.random() < BRANDED.get(cat, 0.0):
                pool = own_brand if (own_brand and cat == "electronics") else brands[cat]
                brand = str(rng.choice(pool))
            line.append({"category": cat, "item": item, "brand": brand, "z": float(rng.normal())})
        for j in range(n):
            p = line[j]
            title = (
                p["item"]
                if p["brand"] is None
                else f"【{_brand_short(str(p['brand']), world)}】{p['item']}"
            )
            if p["category"] in ("hotel_room", "food_delivery_meal"):
                title = f"{m['name']} {p['item']}"
            rows.append(
                {
                    "platform_id": m["platform_id"],
                    "merchant_id": m["merchant_id"],
                    "category": p["category"],
                    "title": title,
                    "brand_id": p["brand"],
                    "self_operated": bool(m["self_operated"]),
                    "z": p["z"],
                    "jitter": float(rng.normal(0, 0.03)),
                }
            )
    products = pd.DataFrame(rows)
    products.insert(0, "sku_id", [f"S{i + 1:07d}" for i in range(len(products))])
    # Regular prices: log-normal per category; one or two categories of standardised goods
    # (sold by three or more merchants) have naturally low dispersion.
    sigma = {c: s for c, (_, s) in CATEGORY_PRICE.items()}
    sellers = products.groupby("category")["merchant_id"].nunique()
    options = [c for c in STANDARDISABLE if sellers.get(c, 0) >= 3] or list(STANDARDISABLE)
    standard = list(
        rng.choice(options, min(len(options), 1 + int(rng.random() < 0.4)), replace=False)
    )
    for c in standard:
        sigma[str(c)] = float(rng.uniform(0.03, 0.07))
    median = products["category"].map({c: m for c, (m, _) in CATEGORY_PRICE.items()})
    spread = products["category"].map(sigma)
    base = median * np.exp(products["z"] * spread + products["jitter"])
    products["base_price"] = base.round(2).clip(lower=1.0)
    world.sku_prices = products[["sku_id", "base_price"]].copy()
    world.frames["products"] = products[
        ["sku_id", "platform_id", "merchant_id", "category", "title", "brand_id", "self_operated"]
    ].copy()
    world.info["category_sector"] = {c: s for s, cats in SECTORS.items() for c in cats}
    world.info["regional_categories"] = list(REGIONAL_CATEGORIES)
    world.info["peak_categories"] = list(PEAK_CATEGORIES)
    world.info["standardised_categories"] = [str(c) for c in standard]


def _brand_short(entity_id: str, world: World) -> str:
    name = str(world.info["_ents"].rows[int(entity_id[1:]) - 1]["name"])
    return name[:2]


def _build_users(world: World, specs: list[PlatformSpec]) -> None:
    rng = world.rng_for("world:users")
    n = world.scale.users
    pids = np.array([s.platform_id for s in specs], dtype=object)
    launched = world.frames["platforms"].set_index("platform_id")["launched_on"]
    # Users mostly come from the platforms people buy on.
    pw = np.array([s.active_m * (3.0 if s.sectors else 1.0) for s in specs], dtype=float)
    pw /= pw.sum()
    home = rng.choice(len(specs), n, p=pw)
    user_ids = unique_hash_tokens(world.seed, 1, n, 12, "u_")
    device = np.array(["ios", "android", "web", "other"], dtype=object)[
        rng.choice(4, n, p=[0.3, 0.55, 0.1, 0.05])
    ]
    region = _region_sampler(rng, n, zj_share=0.82)
    phone = unique_hash_tokens(world.seed, 2, n, 16, "ph_")
    device_hash = unique_hash_tokens(world.seed, 3, n, 16, "dv_")
    ip_space = rng.choice(223 * 65536 * 4, n, replace=False)  # distinct /24 prefixes
    a = 1 + ip_space // (65536 * 4) % 223
    b = ip_space // 256 % 256
    c = ip_space % 256
    ip = pc.binary_join_element_wise(*(pc.cast(pa.array(x), pa.string()) for x in (a, b, c)), ".")
    ip = ip.to_numpy(zero_copy_only=False)
    # Households of 2-4 share an IP prefix; some of them also a device.
    hh_share = 0.12
    in_hh = np.flatnonzero(rng.random(n) < hh_share)
    rng.shuffle(in_hh)
    sizes = rng.integers(2, 5, len(in_hh) // 2 + 1)
    bounds = np.cumsum(sizes)
    bounds = bounds[bounds < len(in_hh)]
    groups = np.split(in_hh, bounds)
    heads = np.array([g[0] for g in groups if len(g) > 1], dtype=int)
    if len(heads):
        members = np.concatenate([g[1:] for g in groups if len(g) > 1])
        head_of = np.concatenate([np.full(len(g) - 1, g[0]) for g in groups if len(g) > 1])
        ip[members] = ip[head_of]
        region[members] = region[head_of]
        shared_dev = rng.random(len(members)) < 0.25
        device_hash[members[shared_dev]] = device_hash[head_of[shared_dev]]
        device[members[shared_dev]] = device[head_of[shared_dev]]

    # Accounts: the home platform plus 0-3 others.
    extra = rng.choice(4, n, p=[0.4, 0.35, 0.2, 0.05])
    owner = np.repeat(np.arange(n), extra)
    other = rng.choice(len(specs), len(owner), p=pw)
    acc = pd.DataFrame(
        {
            "u": np.concatenate([np.arange(n), owner]),
            "p": np.concatenate([home, other]),
            "home": np.concatenate([np.ones(n, bool), np.zeros(len(owner), bool)]),
        }
    )
    acc = acc.drop_duplicates(["u", "p"], keep="first").sort_values(["u", "p"], kind="stable")
    acc = acc.reset_index(drop=True)
    m = len(acc)
    # Account age at the start of the period: a few new accounts, the rest log-uniform.
    start_dt = local_midnight_utc(world.start)
    max_age = np.array([(world.start - launched[p]).days for p in pids], dtype=float)[
        acc["p"].to_numpy()
    ]
    max_age = np.maximum(max_age, 60)
    new = rng.random(m) < 0.06
    age = np.where(
        new,
        rng.uniform(0, 30, m),
        np.exp(rng.uniform(np.log(30), np.log(np.minimum(max_age, 3650)))),
    )
    tenure = np.floor(age).astype(np.int64)
    seconds = (age * 86400).astype(np.int64)
    registered = pd.to_datetime(int(start_dt.timestamp()) - seconds, unit="s", utc=True)
    member_share = np.array([s.member_share for s in specs])[acc["p"].to_numpy()]
    member = rng.random(m) < member_share * np.where(tenure > 90, 1.3, 0.4)
    u = acc["u"].to_numpy()
    accounts = pd.DataFrame(
        {
            "user_id": user_ids[u],
            "platform_id": pids[acc["p"].to_numpy()],
            "registered_at": registered,
            "device_hash": device_hash[u],
            "phone_hash": phone[u],
            "ip_prefix": ip[u],
            "region_code": region[u],
        }
    )
    world.frames["accounts"] = accounts
    world.info["account_attrs"] = pd.DataFrame(
        {
            "user_id": accounts["user_id"],
            "platform_id": accounts["platform_id"],
            "tenure_days": tenure,
            "is_member": member,
        }
    )
    homes = acc["home"].to_numpy()
    users = pd.DataFrame(
        {
            "user_id": user_ids[u[homes]],
            "platform_id": pids[acc["p"].to_numpy()[homes]],
            "tenure_days": tenure[homes],
            "is_member": member[homes],
            "device": device[u[homes]],
            "region_code": region[u[homes]],
        }
    )
    world.users = users.reset_index(drop=True)


def _build_metrics(world: World, specs: list[PlatformSpec]) -> None:
    rng = world.rng_for("world:metrics")
    merchants = world.frames["merchants"]
    rows: list[dict[str, object]] = []
    years = [world.start.year - 3, world.start.year - 2, world.start.year - 1]
    last_month = world.end - timedelta(days=1)
    months = pd.period_range(pd.Period(world.start, "M") - 12, pd.Period(last_month, "M"), freq="M")
    for s in specs:
        growth = rng.uniform(1.02, 1.15)
        stores = int((merchants["platform_id"] == s.platform_id).sum())
        biz_scale = max(stores, 1) * rng.uniform(800, 3000) if s.sectors else rng.uniform(1e4, 5e5)
        gmv_per_user = rng.uniform(2000, 9000) if s.sectors else rng.uniform(50, 500)
        take = rng.uniform(0.03, 0.12)
        for i, year in enumerate(reversed(years)):
            users = s.active_m * 1e6 / growth**i * rng.uniform(0.97, 1.03)
            gmv = users * gmv_per_user
            rows.append(
                {
                    "platform_id": s.platform_id,
                    "period": str(year),
                    "active_users": int(users),
                    "business_users": int(biz_scale / growth**i),
                    "gmv_cny": round(gmv, 2),
                    "revenue_cny": round(gmv * take, 2),
                }
            )
        for k, month in enumerate(months):
            mau = (
                s.active_m
                * 1e6
                * rng.uniform(0.6, 0.8)
                * growth ** ((k - 12) / 12)
                * rng.uniform(0.97, 1.03)
            )
            gmv = mau * gmv_per_user / 12 * rng.uniform(0.85, 1.15)
            rows.append(
                {
                    "platform_id": s.platform_id,
                    "period": str(month),
                    "active_users": int(mau),
                    "business_users": int(biz_scale * rng.uniform(0.8, 0.95)),
                    "gmv_cny": round(gmv, 2),
                    "revenue_cny": round(gmv * take, 2),
                }
            )
    world.frames["platform_metrics"] = pd.DataFrame(rows)
    for key in ("_ents", "_established", "_fin"):
        world.info.pop(key, None)
