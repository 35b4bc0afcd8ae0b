"""Planting module: advertising (table ``ads``; subject ``ad`` = ``ad_id``).

Families and what is planted (fractions and strengths are random draws per market):

``ads.prohibited_claim`` (Advertising Law art. 9(3), 17, 25, 28; SAMR absolute-terms
guidelines 2023 No. 6)
    Ad texts (zh and en) with absolute terms (最/最佳/最好/最低价, 第一/NO.1/TOP1/唯一,
    国家级/世界级, 顶级/极品/极致/终极, 首个/首选/独家/首发/全网首发, 万能, 绝无仅有,
    史无前例; best, No.1, number one, top-rated, world-class, the only, unbeatable) in
    varied templates, 1-3 terms each; a share are written subtly (mixed case, full-width
    characters that NFKC folds to the term, the term buried in a long text). Category
    rules: efficacy or cure claims (治愈, 根治, 药到病除, "cures") in ``food``,
    ``health_food`` and ``cosmetics`` ads; guaranteed returns (保本, 稳赚, 无风险,
    年化收益保证, "guaranteed returns") in ``finance`` ads. Strength grows with the number
    of terms and is lower for the subtle spellings.
    Look-alikes (lawful): the term is part of the advertiser's registered name or brand
    (the advertiser entity, added to ``entities``, carries the name); sales facts
    qualified by time, region and source; usage tips ("最佳使用时间", "best time to use");
    officially awarded titles (国家级非物质文化遗产 for listed items); comparisons within
    the store's own range (本店最新款); drug ads stating approved indications (治疗…);
    finance ads with risk disclosures that contain 保本 / 风险 in a negated form
    (非保本, 理财有风险).
``ads.unlabeled`` (Advertising Law art. 14; Internet Advertising Measures art. 9)
    ``paid`` and not ``labeled_as_ad`` in native formats (feed, article, live, video) with
    a purchase link or call to action. Strength: random, higher for overt sales pitches.
    Look-alikes: unpaid organic content (users' posts, stores' service notices, no
    purchase link) not labelled; paid review-style content properly labelled.
``ads.unclosable_popup`` (Advertising Law art. 44(2); Internet Advertising Measures art. 10)
    ``popup`` or ``splash`` ads that cannot be closed (``close_clicks`` = 0), need two or
    more clicks, or show a close countdown (``close_delay_s`` > 0). Strength: 0.85-1 when
    unclosable, else growing with the clicks and the delay.
    Look-alikes: one-click, no-delay popups and splash ads; feed and video ads with null
    close fields (not closable content, out of scope).

Every other ad is lawful: paid ads labelled, organic content unpaid, popups closable in
one click at once. Planted ads violate exactly one family; look-alikes violate none.
"""

from __future__ import annotations

import logging
import unicodedata

import numpy as np
import pandas as pd

from fairwatch.synth.core import GroundTruth, TableWriter, World
from fairwatch.synth.structure import EntityFactory

log = logging.getLogger(__name__)

CLAIM = "ads.prohibited_claim"
UNLABELED = "ads.unlabeled"
POPUP = "ads.unclosable_popup"
SUBJECT = "ad"

#: Absolute terms (compliance practice lists; not an official list).
ABSOLUTE_TERMS_ZH = (
    "最佳",
    "最好",
    "最低价",
    "最",
    "第一",
    "NO.1",
    "TOP1",
    "唯一",
    "国家级",
    "世界级",
    "顶级",
    "极品",
    "极致",
    "终极",
    "首个",
    "首选",
    "独家",
    "全网首发",
    "首发",
    "万能",
    "绝无仅有",
    "史无前例",
)
ABSOLUTE_TERMS_EN = (
    "best",
    "no.1",
    "number one",
    "top-rated",
    "world-class",
    "the only",
    "unbeatable",
)
CURE_TERMS = ("治愈", "根治", "药到病除", "cures")
RETURN_TERMS = ("保本", "稳赚", "无风险", "年化收益保证", "guaranteed returns")
CURE_CATEGORIES = ("food", "health_food", "cosmetics")

NATIVE_FORMATS = ("feed", "article", "live", "video")
CLOSABLE_FORMATS = ("popup", "splash")

_PRODUCTS: dict[str, tuple[str, ...]] = {
    "general": (
        "蓝牙耳机",
        "保温杯",
        "双肩包",
        "运动鞋",
        "台灯",
        "收纳箱",
        "电饭煲",
        "床品四件套",
        "空气炸锅",
        "扫地机器人",
    ),
    "food": (
        "龙井茶",
        "杨梅干",
        "金华火腿",
        "东阳红糖",
        "笋干",
        "山核桃",
        "绍兴黄酒",
        "青团",
        "嘉兴粽子",
        "纯牛奶",
    ),
    "health_food": ("蛋白粉", "维生素C片", "鱼油软胶囊", "钙片", "益生菌"),
    "cosmetics": ("保湿面霜", "防晒乳", "洗面奶", "修护精华液", "补水面膜"),
    "drug": ("布洛芬缓释胶囊", "感冒灵颗粒", "氯雷他定片", "板蓝根颗粒"),
    "medical_device": ("电子血压计", "医用外科口罩", "血糖仪", "红外体温计"),
    "finance": ("稳健理财计划", "定期存款", "货币基金", "养老理财产品"),
    "education": ("少儿编程课", "英语口语课", "考研辅导班", "钢琴陪练课"),
    "real_estate": ("滨江新盘", "精装公寓", "临街商铺", "甲级写字楼"),
}
_PRODUCTS_EN: dict[str, tuple[str, ...]] = {
    "general": ("wireless earbuds", "thermos bottle", "backpack", "running shoes", "desk lamp"),
    "food": ("Longjing green tea", "dried bayberries", "Jinhua ham", "hickory nuts"),
    "health_food": ("protein powder", "vitamin C tablets", "fish oil capsules"),
    "cosmetics": ("moisturising cream", "sunscreen lotion", "facial cleanser"),
    "finance": ("wealth management plan", "money market fund"),
    "education": ("coding class for kids", "spoken English course"),
}
_CATEGORY_WEIGHTS = {
    "general": 0.36,
    "food": 0.16,
    "health_food": 0.07,
    "cosmetics": 0.1,
    "drug": 0.05,
    "medical_device": 0.04,
    "finance": 0.08,
    "education": 0.07,
    "real_estate": 0.07,
}
_FORMAT_WEIGHTS = {
    "feed": 0.3,
    "search": 0.18,
    "video": 0.15,
    "live": 0.07,
    "article": 0.07,
    "popup": 0.12,
    "splash": 0.11,
}
_FEATURES = ("顺丰包邮", "七天无理由退货", "当季新品", "支持以旧换新", "会员积分翻倍", "门店同款")
_CATEGORY_FEATURES: dict[str, tuple[str, ...]] = {
    "general": ("做工扎实", "轻便耐用", "支持以旧换新", "门店同款", "七天无理由退货"),
    "food": ("产地直发", "口感醇厚", "当季新品", "冷链配送"),
    "health_food": ("蓝帽子认证", "会员积分翻倍", "顺丰包邮"),
    "cosmetics": ("温和不刺激", "专柜同款", "七天无理由退货"),
}
_CTA = ("点击了解详情", "立即购买", "进店看看", "领券下单")
_CITIES = ("杭州", "宁波", "温州", "嘉兴", "绍兴", "金华", "台州", "湖州")
_DISEASES = ("失眠", "高血压", "糖尿病", "痘痘", "湿疹", "脱发", "关节炎")
_DISEASES_EN = ("insomnia", "eczema", "hair loss", "acne")
_INDICATIONS = {
    "布洛芬缓释胶囊": (
        "用于缓解轻至中度疼痛，如头痛、关节痛、牙痛，也用于普通感冒或流行性感冒引起的发热"
    ),
    "感冒灵颗粒": "用于感冒引起的头痛、发热、鼻塞、流涕、咽痛",
    "氯雷他定片": "用于治疗过敏性鼻炎及荨麻疹的相关症状",
    "板蓝根颗粒": "用于肺胃热盛所致的咽喉肿痛、口咽干燥；急性扁桃体炎见上述证候者",
}
#: Items on the national list of intangible cultural heritage (officially awarded titles).
_ICH_ITEMS = (
    ("龙泉青瓷烧制技艺", "general"),
    ("绍兴黄酒酿制技艺", "food"),
    ("金华火腿腌制技艺", "food"),
    ("东阳木雕", "general"),
    ("西湖龙井绿茶制作技艺", "food"),
    ("杭州织锦技艺", "general"),
)
#: Registered names / brands that contain an absolute term (lawful per the SAMR guidelines).
_NAMED_ADVERTISERS = (
    ("杭州第一百货商店有限公司", "第一百货", "general", "{b}春季会员日：全场满{a}减{c}，{cta}"),
    ("浙江极品茶业有限公司", "极品茶业", "food", "{b}明前龙井新茶上市，{feat}"),
    (
        "宁波首选物业服务有限公司",
        "首选物业",
        "real_estate",
        "{b}：小区保洁与维修服务，新签约立减{c}元",
    ),
    ("温州万能达五金机电有限公司", "万能达", "general", "{b}电动工具套装，{feat}，{cta}"),
)
_SOURCES = ("浙江省电子商务促进中心", "中国连锁经营协会", "国家统计局浙江调查总队", "欧睿信息咨询")


def _pick(rng: np.random.Generator, seq: tuple[str, ...] | list[str]) -> str:
    return seq[int(rng.integers(len(seq)))]


def _feature(rng: np.random.Generator, cat: str) -> str:
    return _pick(rng, _CATEGORY_FEATURES.get(cat, _FEATURES))


# --------------------------------------------------------------------------- texts


def _lawful_text(rng: np.random.Generator, cat: str, lang: str) -> str:
    """A lawful ad text without any absolute or prohibited term."""
    if lang == "en" and cat in _PRODUCTS_EN:
        p = _pick(rng, _PRODUCTS_EN[cat])
        a, c = int(rng.integers(10, 40)) * 10, int(rng.integers(1, 9)) * 5
        templates: tuple[str, ...] = (
            f"{p.capitalize()} on sale: save {c} yuan on orders over {a}. Shop now.",
            f"New arrival: {p}, free shipping and 7-day returns.",
            f"Spring deal on {p} - limited stock, order today.",
        )
        if cat == "finance":
            r = rng.uniform(1.8, 3.2)
            templates = (
                f"{p.capitalize()}: performance benchmark {r:.2f}% a year. Investing involves "
                "risk; past performance does not indicate future results.",
            )
        return _pick(rng, templates)
    p = _pick(rng, _PRODUCTS[cat])
    a, c = int(rng.integers(10, 40)) * 10, int(rng.integers(1, 9)) * 5
    feat, cta, city = _feature(rng, cat), _pick(rng, _CTA), _pick(rng, _CITIES)
    if cat == "drug":
        return f"{p}，{_INDICATIONS[p]}。请按药品说明书或者在药师指导下购买和使用。"
    if cat == "medical_device":
        return f"{p}，{feat}。请仔细阅读产品说明书或者在医务人员的指导下购买和使用。"
    if cat == "finance":
        r = rng.uniform(1.8, 3.2)
        return _pick(
            rng,
            (
                f"{p}，业绩比较基准{r:.2f}%，理财有风险，投资需谨慎。",
                f"{p}：起购金额{a}元，业绩比较基准{r:.2f}%，过往业绩不代表未来表现。",
            ),
        )
    if cat == "education":
        return f"{p}，小班授课，{city}线下校区可预约免费试听，{cta}"
    if cat == "real_estate":
        line, size = int(rng.integers(1, 20)), int(rng.integers(45, 140))
        return f"{p}，地铁{line}号线旁，{size}平米起，欢迎预约看房"
    return _pick(
        rng,
        (
            f"{p}限时优惠，满{a}减{c}，{cta}",
            f"{p}上新，新客立减{c}元，{feat}",
            f"{p}，{feat}，今日下单48小时内发货",
            f"春季焕新：{p}直降{c}元，{cta}",
            f"{city}本地{p}，{feat}，欢迎选购",
        ),
    )


def _organic_text(rng: np.random.Generator, lang: str) -> str:
    """Non-commercial content: users' posts and stores' service notices, no purchase link."""
    if lang == "en":
        return _pick(
            rng,
            (
                "Weekend hike around West Lake, lovely weather.",
                "Our store hours change to 10:00-21:00 from next Monday.",
                "Sharing my homemade dinner tonight.",
            ),
        )
    city = _pick(rng, _CITIES)
    return _pick(
        rng,
        (
            f"周末去{city}爬山，天气不错，分享几张照片",
            "本店下周一起营业时间调整为10:00-21:00，感谢理解",
            "今天的晚餐分享：番茄炒蛋和清蒸鲈鱼",
            f"{city}今日降温，出门记得添衣",
            "春节期间门店正常营业，配送时间可能延长",
        ),
    )


def _pitch_text(rng: np.random.Generator, cat: str, lang: str) -> str:
    """Review-style or overt promotional content with a purchase link (lawful wording)."""
    if lang == "en" and cat in _PRODUCTS_EN:
        p = _pick(rng, _PRODUCTS_EN[cat])
        return _pick(
            rng,
            (
                f"My honest review of the {p} - link below to buy.",
                f"Unboxing the {p}: tap the link to shop with a coupon.",
            ),
        )
    cat = cat if cat in _CATEGORY_FEATURES else "general"
    p = _pick(rng, _PRODUCTS[cat])
    return _pick(
        rng,
        (
            f"亲测好用的{p}，{_feature(rng, cat)}，点击下方链接购买",
            f"{p}真实体验分享，评论区戳链接领券下单",
            f"直播间{p}今晚加赠小样，点击购物车下单",
            f"{p}测评：用了一个月的真实感受，链接放在这里了",
        ),
    )


def _claim_text(rng: np.random.Generator, cat: str, lang: str) -> tuple[str, int, bool]:
    """An ad text with prohibited claims: (text, number of terms, subtle spelling)."""
    subtle = bool(rng.random() < 0.2)
    if cat in CURE_CATEGORIES and rng.random() < 0.5:
        if lang == "en":
            p = _pick(rng, _PRODUCTS_EN[cat])
            d = _pick(rng, _DISEASES_EN)
            return f"Our {p} cures {d} naturally - order today.", 1, False
        p, d = _pick(rng, _PRODUCTS[cat]), _pick(rng, _DISEASES)
        text = _pick(
            rng,
            (
                f"{p}坚持食用三个月，可根治{d}",
                f"{p}药到病除，{d}不再复发",
                f"临床见证：{p}治愈{d}，{_pick(rng, _CTA)}",
            ),
        )
        return text, 1, False
    if cat == "finance" and rng.random() < 0.7:
        if lang == "en":
            p = _pick(rng, _PRODUCTS_EN["finance"])
            r = rng.uniform(4.5, 9.0)
            return f"{p.capitalize()} with guaranteed returns of {r:.1f}% a year.", 1, False
        p, r = _pick(rng, _PRODUCTS["finance"]), rng.uniform(4.5, 9.0)
        text = _pick(
            rng,
            (
                f"{p}保本保息，稳赚不赔，年化{r:.1f}%",
                f"{p}，年化收益保证{r:.1f}%，无风险",
                f"{p}：本金无风险，到期稳赚{r:.1f}%",
            ),
        )
        return text, 2 if "稳赚" in text or "无风险" in text else 1, False
    if lang == "en":
        pcat = cat if cat in _PRODUCTS_EN else "general"
        p = _pick(rng, _PRODUCTS_EN[pcat])
        pool = (
            f"The best {p} in town - order now.",
            f"Number one {p} in China, unbeatable price.",
            f"Top-rated {p}, world-class quality.",
            f"The only {p} you will ever need.",
            f"{p.capitalize()}: unbeatable quality at the lowest price.",
            f"Our {p} is No.1 for comfort.",
        )
        text = _pick(rng, pool)
        n = sum(t in text.lower() for t in ABSOLUTE_TERMS_EN) or 1
        if subtle:
            text = text.replace("Number one", "NUMBER ONE").replace("No.1", "no.1")
            text = text.replace("best", "BEST").replace("Top-rated", "TOP-RATED")
        return text, n, subtle
    pcat = cat if cat in _CATEGORY_FEATURES else "general"
    p = _pick(rng, _PRODUCTS[pcat])
    city, feat = _pick(rng, _CITIES), _feature(rng, pcat)
    fragments = [
        f"{p}全网最低价",
        f"销量第一的{p}",
        f"{city}唯一指定{p}",
        f"国家级品质{p}",
        f"世界级工艺打造{p}",
        f"行业NO.1{p}",
        f"{p}TOP1",
        f"顶级{p}",
        f"极致体验{p}",
        f"终极版{p}",
        f"全网首发{p}",
        f"消费者首选{p}",
        f"独家配方{p}",
        f"万能{p}",
        f"绝无仅有的{p}",
        f"史无前例的{p}优惠",
        f"最好用的{p}",
        f"{p}，品质最佳",
    ]
    k = int(rng.choice([1, 1, 2, 2, 3]))
    chosen = [fragments[i] for i in rng.choice(len(fragments), k, replace=False)]
    text = "，".join(chosen) + f"，{feat}，{_pick(rng, _CTA)}"
    if subtle:
        if rng.random() < 0.5:
            text = text.replace("NO.1", "ＮＯ．１").replace("TOP1", "ＴＯＰ１")
            if not any(t in text for t in ("ＮＯ．１", "ＴＯＰ１")):
                text = f"{p}ＮＯ．１，" + text
        else:  # buried in a long, otherwise lawful text
            text = (
                _lawful_text(rng, pcat, "zh") + "。" + _lawful_text(rng, pcat, "zh") + "。" + text
            )
    return text, k, subtle


def _lookalike_claim(rng: np.random.Generator, kind: str, lang: str) -> tuple[str, str]:
    """A lawful text that contains an absolute or category term: (text, category)."""
    if kind == "qualified_fact":
        year = int(rng.integers(2022, 2025))
        cat = _pick(rng, ("food", "general", "cosmetics"))
        p = _pick(rng, _PRODUCTS[cat])
        src = _pick(rng, _SOURCES)
        if lang == "en":
            return (
                f"No.1 in online sales of {_pick(rng, _PRODUCTS_EN[cat])} in Zhejiang, "
                f"Jan-Dec {year} (source: {src})."
            ), cat
        return (f"{p}{year}年浙江省线上销量第一（数据来源：{src}，统计期间{year}年1月—12月）", cat)
    if kind == "usage_tip":
        cat = _pick(rng, ("cosmetics", "health_food", "food"))
        p = _pick(rng, _PRODUCTS[cat])
        if lang == "en":
            return (
                f"{_pick(rng, _PRODUCTS_EN[cat]).capitalize()}: best time to use is before bed.",
                cat,
            )
        tip = {
            "cosmetics": "最佳使用时间为睡前",
            "health_food": "最佳食用时间为饭后半小时",
            "food": "最佳冲泡水温为80℃左右",
        }[cat]
        if cat == "food":
            p = "龙井茶"
        return f"{p}小贴士：{tip}，{_feature(rng, cat)}", cat
    if kind == "official_title":
        item, cat = _ICH_ITEMS[int(rng.integers(len(_ICH_ITEMS)))]
        return f"国家级非物质文化遗产“{item}”代表性传承人作品，{_feature(rng, cat)}", cat
    if kind == "own_range":
        cat = _pick(rng, ("general", "cosmetics"))
        if lang == "en":
            return f"Our newest {_pick(rng, _PRODUCTS_EN[cat])} in store, free shipping.", cat
        return f"本店最新款{_pick(rng, _PRODUCTS[cat])}到货，{_feature(rng, cat)}", cat
    if kind == "drug_indication":
        p = _pick(rng, tuple(_INDICATIONS))
        number = f"国药准字H{int(rng.integers(10_000_000, 99_999_999))}"
        return (
            f"{p}：{_INDICATIONS[p]}。请按药品说明书或者在药师指导下购买和使用。（{number}）",
            "drug",
        )
    if kind == "risk_disclosure":
        p, r = _pick(rng, _PRODUCTS["finance"]), rng.uniform(2.0, 3.5)
        return (
            f"{p}为非保本浮动收益型产品，业绩比较基准{r:.2f}%不代表实际收益，理财有风险，"
            "投资需谨慎",
            "finance",
        )
    raise ValueError(kind)


def contains_prohibited(text: str, category: str | None) -> bool:
    """The naive test (plain substring of a listed term), for sanity checks of the generator."""
    t = unicodedata.normalize("NFKC", text).lower()
    terms = [x.lower() for x in ABSOLUTE_TERMS_ZH + ABSOLUTE_TERMS_EN]
    if category in CURE_CATEGORIES:
        terms += list(CURE_TERMS)
    if category == "finance":
        terms += list(RETURN_TERMS)
    return any(x in t for x in terms)


# --------------------------------------------------------------------------- plant


def _lookalike_family(role: str) -> str:
    if role in ("l_organic", "l_labeled_pitch"):
        return UNLABELED
    if role in ("l_popup_ok", "l_splash_ok", "l_no_close"):
        return POPUP
    return CLAIM


def plant(world: World, out: TableWriter, truth: GroundTruth) -> None:
    """Write ``ads`` with planted violations and look-alikes of the three ad families."""
    rng = world.rng_for("ads")
    n = max(800, world.scale.merchants * 25)
    platforms = world.frame("platforms")
    merchants = world.frame("merchants")
    entities = world.frame("entities")
    if platforms.empty:
        log.warning("ads: no platforms, nothing planted")
        return
    pids = platforms["platform_id"].to_numpy()
    cats = platforms["categories"].apply(list)
    pw = np.array(
        [
            1.0 + 2.0 * bool({"online_sales", "social_entertainment", "information"} & set(c))
            for c in cats
        ]
    )
    companies = (
        entities.loc[entities["kind"] == "company", "entity_id"].to_numpy()
        if not entities.empty
        else np.array([], dtype=object)
    )
    m_by_platform = (
        {p: g for p, g in merchants.groupby("platform_id")} if not merchants.empty else {}
    )

    ad_cat = rng.choice(list(_CATEGORY_WEIGHTS), n, p=np.array(list(_CATEGORY_WEIGHTS.values())))
    ad_cat = ad_cat.astype(object)
    fmt = rng.choice(list(_FORMAT_WEIGHTS), n, p=np.array(list(_FORMAT_WEIGHTS.values())))
    fmt = fmt.astype(object)
    lang = np.where(rng.random(n) < 0.1, "en", "zh").astype(object)
    lang[~np.isin(ad_cat, list(_PRODUCTS_EN))] = "zh"
    organic = np.isin(fmt, NATIVE_FORMATS) & (rng.random(n) < 0.25)
    role = np.full(n, "", dtype=object)  # planted family or look-alike kind per ad

    # ---------------------------------------------------------------- roles
    def choose(mask: np.ndarray, share: float, label: str, at_least: int = 2) -> np.ndarray:
        idx = np.flatnonzero(mask & (role == ""))
        k = min(len(idx), max(at_least, round(share * n)))
        pick = rng.choice(idx, k, replace=False) if k else idx[:0]
        role[pick] = label
        return pick

    paid = ~organic
    if world.violations:
        choose(paid & ~np.isin(fmt, CLOSABLE_FORMATS), rng.uniform(0.012, 0.035), "v_claim")
        choose(paid & np.isin(fmt, NATIVE_FORMATS), rng.uniform(0.006, 0.02), "v_unlabeled")
        choose(np.isin(fmt, CLOSABLE_FORMATS), rng.uniform(0.01, 0.035), "v_popup")
    for kind in (
        "named",
        "qualified_fact",
        "usage_tip",
        "official_title",
        "own_range",
        "drug_indication",
        "risk_disclosure",
    ):
        choose(
            paid & ~np.isin(fmt, CLOSABLE_FORMATS),
            rng.uniform(0.002, 0.006),
            f"l_{kind}",
            at_least=1,
        )
    choose(organic, rng.uniform(0.005, 0.015), "l_organic")
    choose(paid & np.isin(fmt, NATIVE_FORMATS), rng.uniform(0.005, 0.015), "l_labeled_pitch")
    choose(fmt == "popup", rng.uniform(0.004, 0.01), "l_popup_ok", at_least=1)
    choose(fmt == "splash", rng.uniform(0.004, 0.01), "l_splash_ok", at_least=1)
    choose(
        np.isin(fmt, ("feed", "video")) & paid, rng.uniform(0.004, 0.01), "l_no_close", at_least=1
    )

    # ---------------------------------------------------------------- columns
    texts = np.empty(n, dtype=object)
    labeled = paid.copy()
    close_clicks = np.full(n, np.nan)
    close_delay = np.full(n, np.nan)
    closable = np.isin(fmt, CLOSABLE_FORMATS)
    close_clicks[closable] = 1
    close_delay[closable] = 0.0
    strength = np.full(n, np.nan)
    notes = np.full(n, "", dtype=object)
    advertiser = np.full(n, None, dtype=object)
    merchant = np.full(n, None, dtype=object)
    platform = pids[rng.choice(len(pids), n, p=pw / pw.sum())]

    named_ids: dict[int, str] = {}
    factory = EntityFactory(world, world.rng_for("ads.entities"), "EA")

    for i in range(n):
        r, cat, lg = role[i], str(ad_cat[i]), str(lang[i])
        if r == "v_claim":
            if rng.random() < 0.3:
                cat = _pick(rng, ("food", "health_food", "cosmetics", "finance"))
                ad_cat[i] = cat
            if cat not in _PRODUCTS_EN:
                lang[i] = lg = "zh"
            text, k, subtle = _claim_text(rng, cat, lg)
            texts[i] = text
            strength[i] = float(
                np.clip(0.25 + 0.2 * k + rng.uniform(0, 0.2) - 0.25 * subtle, 0.1, 1.0)
            )
            notes[i] = f"{k} prohibited term(s){', subtle spelling' if subtle else ''}"
        elif r.startswith("l_") and r[2:] in (
            "qualified_fact",
            "usage_tip",
            "official_title",
            "own_range",
            "drug_indication",
            "risk_disclosure",
        ):
            if r[2:] in ("official_title", "drug_indication", "risk_disclosure"):
                lang[i] = lg = "zh"
            texts[i], ad_cat[i] = _lookalike_claim(rng, r[2:], lg)
        elif r == "l_named":
            j = int(rng.integers(len(_NAMED_ADVERTISERS)))
            name, brand, cat, tmpl = _NAMED_ADVERTISERS[j]
            if j not in named_ids:
                named_ids[j] = factory.new(name=name, city_code="330100" if j < 2 else "330200")
            advertiser[i] = named_ids[j]
            ad_cat[i], lang[i] = cat, "zh"
            texts[i] = tmpl.format(
                b=brand,
                a=int(rng.integers(20, 50)) * 10,
                c=int(rng.integers(2, 9)) * 5,
                cta=_pick(rng, _CTA),
                feat=_feature(rng, cat),
            )
        elif organic[i]:
            texts[i] = _organic_text(rng, lg)
            ad_cat[i] = "general"
        elif r in ("v_unlabeled", "l_labeled_pitch") or (
            fmt[i] in NATIVE_FORMATS and rng.random() < 0.3
        ):
            texts[i] = _pitch_text(rng, cat, lg)
            if cat not in _CATEGORY_FEATURES:
                ad_cat[i] = "general"
        else:
            texts[i] = _lawful_text(rng, cat, lg)
        if r == "v_unlabeled":
            labeled[i] = False
            overt = "链接" in texts[i] or "link" in texts[i] or "购物车" in texts[i]
            strength[i] = float(rng.uniform(0.55, 1.0) if overt else rng.uniform(0.3, 0.7))
            notes[i] = f"paid {fmt[i]} content with a purchase link, not labelled as an ad"
        elif r == "v_popup":
            mode = rng.choice(
                ["cannot_close", "clicks", "countdown", "both"], p=[0.3, 0.3, 0.3, 0.1]
            )
            if mode == "cannot_close":
                close_clicks[i], close_delay[i] = 0, 0.0
                strength[i] = rng.uniform(0.85, 1.0)
            else:
                clicks = int(rng.integers(2, 5)) if mode in ("clicks", "both") else 1
                delay = (
                    float(np.round(rng.uniform(1, 15), 1)) if mode in ("countdown", "both") else 0.0
                )
                close_clicks[i], close_delay[i] = clicks, delay
                strength[i] = float(np.clip(0.25 + 0.15 * (clicks - 1) + delay / 25, 0.2, 0.9))
            notes[i] = (
                f"{fmt[i]}: close_clicks={int(close_clicks[i])}, close_delay_s={close_delay[i]:g}"
            )

    # advertisers / merchants
    for p, idx in pd.Series(np.arange(n)).groupby(platform):
        idx_arr = idx.to_numpy()
        idx_arr = idx_arr[pd.isna(advertiser[idx_arr])]
        stores = m_by_platform.get(p)
        use_store = (~organic[idx_arr]) & ~np.isin(
            ad_cat[idx_arr], ("finance", "real_estate", "education", "drug")
        )
        if stores is not None and len(stores):
            pick = rng.integers(0, len(stores), len(idx_arr))
            m_ids = stores["merchant_id"].to_numpy()[pick]
            e_ids = stores["entity_id"].to_numpy()[pick]
            merchant[idx_arr[use_store]] = m_ids[use_store]
            advertiser[idx_arr[use_store]] = e_ids[use_store]
            notice = organic[idx_arr] & (rng.random(len(idx_arr)) < 0.3)
            merchant[idx_arr[notice]] = m_ids[notice]
        rest = idx_arr[pd.isna(advertiser[idx_arr]) & paid[idx_arr]]
        if len(companies) and len(rest):
            advertiser[rest] = companies[rng.integers(0, len(companies), len(rest))]
    factory.flush()

    # timestamps (uniform over the period), shuffled ids
    start = pd.Timestamp(world.start).tz_localize("Asia/Shanghai").tz_convert("UTC")
    seconds = rng.uniform(0, world.days * 86400, n)
    ts = (start + pd.to_timedelta(np.sort(seconds), unit="s")).floor("s")
    order = rng.permutation(n)  # row i of the table is ad order[i]
    frame = pd.DataFrame(
        {
            "ad_id": [f"AD{k + 1:08d}" for k in range(n)],
            "ts": ts,
            "platform_id": platform[order],
            "advertiser_id": advertiser[order],
            "merchant_id": merchant[order],
            "format": fmt[order],
            "text": texts[order],
            "language": lang[order],
            "labeled_as_ad": labeled[order],
            "paid": paid[order],
            "product_category": ad_cat[order],
            "close_clicks": pd.array(
                np.where(np.isnan(close_clicks), np.nan, close_clicks)[order], dtype="Int64"
            ),
            "close_delay_s": close_delay[order],
        }
    )
    families = {"v_claim": CLAIM, "v_unlabeled": UNLABELED, "v_popup": POPUP}
    rows_role = role[order]
    for row_k in np.flatnonzero(rows_role != ""):
        r = str(rows_role[row_k])
        ad_id, pid = frame.at[row_k, "ad_id"], str(frame.at[row_k, "platform_id"])
        src = order[row_k]
        if r in families:
            truth.add(
                families[r],
                SUBJECT,
                ad_id,
                platform_id=pid,
                strength=float(strength[src]),
                note=str(notes[src]),
            )
        else:
            truth.lookalike(_lookalike_family(r), SUBJECT, ad_id, platform_id=pid, note=r[2:])
    for lo in range(0, n, 2_000_000):
        out.write("ads", frame.iloc[lo : lo + 2_000_000])
    log.info(
        "ads: %d ads, %d planted, %d look-alikes",
        n,
        int(sum(1 for r in role if str(r).startswith("v_"))),
        int(sum(1 for r in role if str(r).startswith("l_"))),
    )
