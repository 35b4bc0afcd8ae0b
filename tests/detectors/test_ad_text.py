"""Hand-written examples for the ad-text screen of FW401 (fairwatch.detectors.ads.text).

Every term of every law-store list is shown violating at least once (Chinese and
English), every lawful use (exclusion class) is shown set aside next to a near miss that
is still a violation, and every category rule is shown applying and not applying. The
coverage tests fail when the law store gains a term or an exclusion class that no
example here exercises.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from fairwatch.detectors.ads import text as ad_text
from fairwatch.detectors.ads.text import (
    ABSOLUTE,
    COMPANY_NAME,
    DISEASE,
    EFFICACY,
    GRADE,
    NEGATED,
    NON_CLAIM,
    OFFICIAL_TITLE,
    OWN_RANGE,
    QUALIFIED_FACT,
    RETURN,
    TERM_LISTS,
    TRADEMARK,
    USAGE_TIPS,
    AdTextScreen,
    Name,
    Screening,
    normalize,
)
from fairwatch.law import default_store

AS_OF = date(2025, 12, 31)


def _param(overrides: dict[str, Any] | None = None) -> Callable[[str], Any]:
    store = default_store()

    def param(name: str) -> Any:
        if overrides and name in overrides:
            return overrides[name]
        return store.value(name, AS_OF)

    return param


@pytest.fixture(scope="module")
def screen() -> AdTextScreen:
    return AdTextScreen(_param())


def _violations(result: Screening) -> set[tuple[str, str]]:
    return {(h.cls, normalize(h.term).text) for h in result.violations}


def _exclusions(result: Screening) -> set[tuple[str, str, str | None]]:
    return {(h.cls, normalize(h.term).text, h.excluded) for h in result.excluded}


# --------------------------------------------------------------------------- positives
# (term as listed, text, product category): the text violates with exactly that term.

ABSOLUTE_ZH = [
    ("最", "这是我用过最舒服的枕头", "general"),
    ("最佳", "露营季的最佳装备清单", "general"),
    ("最好", "市面上最好的电动牙刷", "general"),
    ("最低价", "双十一当天全年最低价", "general"),
    ("第一", "行业第一的防晒喷雾", "cosmetics"),
    ("NO.1", "防晒喷雾NO.1，清爽不黏", "cosmetics"),
    ("TOP1", "口碑TOP1的保温杯", "general"),
    ("唯一", "唯一获得专利的竹砧板", "general"),
    ("国家级", "国家级品质的土蜂蜜", "food"),
    ("世界级", "世界级音质的头戴耳机", "general"),
    ("顶级", "顶级雪花牛排，现切现发", "food"),
    ("极品", "极品大红袍，限量发售", "food"),
    ("极致", "极致轻薄的笔记本电脑", "general"),
    ("终极", "终极护肤方案来了", "cosmetics"),
    ("首个", "首个支持方言识别的电饭煲", "general"),
    ("首选", "宝妈首选的纸尿裤", "general"),
    ("独家", "独家秘方卤鸭脖", "food"),
    ("首发", "新款跑鞋今日首发", "general"),
    ("全网首发", "全网首发的折叠屏手机", "general"),
    ("万能", "万能清洁剂，一喷就净", "general"),
    ("绝无仅有", "绝无仅有的限量款手表", "general"),
    ("史无前例", "史无前例的周年大促", "general"),
    ("最高级", "最高级的睡眠享受", "general"),
]
ABSOLUTE_EN = [
    ("best", "The best blender for smoothies.", "general"),
    ("No.1", "No.1 choice of professional chefs.", "general"),
    ("number one", "The number one sunscreen for kids.", "cosmetics"),
    ("top-rated", "Top-rated hiking boots, free returns.", "general"),
    ("world-class", "World-class sound in a tiny speaker.", "general"),
    ("the only", "The only pan you will need.", "general"),
    ("unbeatable", "Unbeatable prices all week.", "general"),
]
DISEASE_ZH = [
    ("治愈", "这款足浴粉能治愈脚气", "general"),
    ("根治", "根治鼻炎的草本喷雾", "general"),
    ("药到病除", "喝这款凉茶药到病除", "food"),
    ("包治", "包治脱发的洗发水", "cosmetics"),
    ("痊愈", "用了三天湿疹就痊愈了", "cosmetics"),
    ("标本兼治", "标本兼治的护发精华", "cosmetics"),
    ("除根", "一次除根的祛痘膏", "cosmetics"),
    ("永不复发", "用完这瓶精华永不复发", "cosmetics"),
    ("治百病", "这款养生壶能治百病", "general"),
    ("抗癌", "每日一杯抗癌蔬菜汁", "food"),
    ("防癌", "常喝防癌茶，身体棒", "food"),
]
DISEASE_EN = [
    ("cure", "A herbal drink to cure insomnia.", "food"),
    ("cures", "This pillow cures snoring.", "general"),
    ("cure-all", "The cure-all balm for every ache.", "cosmetics"),
    ("heal", "Let this cream heal your eczema.", "cosmetics"),
    ("heals", "Raw honey that heals sore throats.", "food"),
    ("prevents cancer", "A green juice that prevents cancer.", "food"),
]
EFFICACY_ZH = [
    ("药到病除", "祖传膏药，药到病除", "drug"),
    ("根治", "根治灰指甲的药膏", "drug"),
    ("包治", "包治颈椎病的理疗仪", "medical_device"),
    ("保证治愈", "本品保证治愈，请放心使用", "drug"),
    ("一次治愈", "一次治愈，不再反弹", "drug"),
    ("治愈率", "治愈率高达98%", "drug"),
    ("痊愈率", "临床痊愈率95%", "drug"),
    ("有效率", "临床有效率99%", "medical_device"),
    ("无效退款", "七天见效，无效退款", "medical_device"),
    ("永不复发", "服用一疗程永不复发", "drug"),
    ("无副作用", "纯中药配方无副作用", "drug"),
    ("无毒副作用", "无毒副作用的降压药", "drug"),
    ("百分百有效", "百分百有效的止痒膏", "drug"),
]
EFFICACY_EN = [
    ("guaranteed cure", "A guaranteed cure for back pain.", "drug"),
    ("guaranteed to work", "This brace is guaranteed to work.", "medical_device"),
    ("cure rate", "A 98% cure rate in trials.", "drug"),
    ("100% effective", "100% effective against nail fungus.", "drug"),
    ("no side effects", "A natural formula with no side effects.", "drug"),
    ("miracle cure", "The miracle cure doctors love.", "drug"),
]
RETURN_ZH = [
    ("保本", "本产品保本，年化3.2%", "finance"),
    ("保息", "三年期产品保息", "finance"),
    ("保收益", "保收益的养老理财", "finance"),
    ("保证收益", "保证收益5%，随存随取", "finance"),
    ("收益保证", "年化收益保证6%", "finance"),
    ("保证回报", "投资即可保证回报", "finance"),
    ("保证本金", "保证本金不亏", "finance"),
    ("本金安全", "本金安全，随时赎回", "finance"),
    ("本金无忧", "本金无忧的理财产品", "finance"),
    ("稳赚", "闭眼买稳赚", "finance"),
    ("只赚不赔", "这只基金只赚不赔", "finance"),
    ("无风险", "无风险套利计划", "finance"),
    ("零风险", "零风险投资，收益翻倍", "finance"),
    ("刚性兑付", "平台承诺刚性兑付", "finance"),
]
RETURN_EN = [
    ("guaranteed returns", "Guaranteed returns of 8% a year.", "finance"),
    ("guaranteed return", "A guaranteed return on every deposit.", "finance"),
    ("guaranteed profit", "Guaranteed profit within 30 days.", "finance"),
    ("guaranteed profits", "Guaranteed profits for members.", "finance"),
    ("guaranteed income", "Guaranteed income every month.", "finance"),
    ("guaranteed yield", "A guaranteed yield of 6%.", "finance"),
    ("principal guaranteed", "Principal guaranteed, withdraw anytime.", "finance"),
    ("capital guaranteed", "A capital guaranteed savings plan.", "finance"),
    ("risk-free", "A risk-free way to grow your savings.", "finance"),
    ("zero risk", "Zero risk, high yield.", "finance"),
    ("no risk", "No risk to your savings.", "finance"),
]
POSITIVES: dict[str, list[tuple[str, str, str]]] = {
    ABSOLUTE: ABSOLUTE_ZH + ABSOLUTE_EN,
    DISEASE: DISEASE_ZH + DISEASE_EN,
    EFFICACY: EFFICACY_ZH + EFFICACY_EN,
    RETURN: RETURN_ZH + RETURN_EN,
}
POSITIVE_CASES = [
    pytest.param(cls, term, text, category, id=f"{cls}:{term}")
    for cls, examples in POSITIVES.items()
    for term, text, category in examples
]


@pytest.mark.parametrize(("cls", "term", "text", "category"), POSITIVE_CASES)
def test_every_listed_term_violates(
    screen: AdTextScreen, cls: str, term: str, text: str, category: str
) -> None:
    result = screen.screen(text, category)
    assert _violations(result) == {(cls, normalize(term).text)}, result.hits


@pytest.mark.parametrize("cls", list(TERM_LISTS))
def test_examples_cover_every_term_of_the_law_store(cls: str) -> None:
    store = default_store()
    listed = {normalize(t).text for name in TERM_LISTS[cls] for t in store.value(name, AS_OF)}
    covered = {normalize(term).text for term, _, _ in POSITIVES[cls]}
    assert listed - covered == set(), f"terms of {cls} without a hand-written example"
    zh = {t for t, _, _ in POSITIVES[cls] if not t.isascii()}
    en = {t for t, _, _ in POSITIVES[cls] if t.isascii() and t not in ("NO.1", "TOP1")}
    assert zh and en, f"{cls} needs Chinese and English examples"


def test_statutory_terms_are_marked(screen: AdTextScreen) -> None:
    for text, category, statutory in (
        ("国家级品质的土蜂蜜", "food", True),
        ("最高级的睡眠享受", "general", True),
        ("市面上最好的电动牙刷", "general", False),
        ("本产品保本，年化3.2%", "finance", True),
        ("闭眼买稳赚", "finance", False),
    ):
        (hit,) = screen.screen(text, category).violations
        assert hit.statutory is statutory, text


# --------------------------------------------------------------------------- spelling


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("登山杖ＮＯ．１，轻便结实", "no.1"),  # full-width letters and dot
        ("口碑ｔｏｐ１的保温杯", "top1"),
        ("The BEST blender for smoothies.", "best"),
        ("BeSt blender ever", "best"),
        ("WORLD-CLASS sound", "world-class"),
        ("防晒喷雾No.1，清爽不黏", "no.1"),
        ("The No. 1 choice of chefs", "no.1"),  # a space after the dot
    ],
)
def test_full_width_and_mixed_case_spellings_fold(
    screen: AdTextScreen, text: str, term: str
) -> None:
    assert _violations(screen.screen(text, "general")) == {(ABSOLUTE, term)}


def test_the_sample_quotes_the_original_spelling_in_context(screen: AdTextScreen) -> None:
    text = (
        "春季上新，户外运动必备好物，超轻碳纤维登山杖ＮＯ．１，送防滑脚垫，顺丰包邮到家，七天无理由"
    )
    result = screen.screen(text, "general")
    (hit,) = result.violations
    # 15 characters either side, the term in its original full-width spelling
    assert (
        result.sample(hit)
        == "…运动必备好物，超轻碳纤维登山杖【ＮＯ．１】，送防滑脚垫，顺丰包邮到家，七…"
    )
    short = screen.screen("最好的伞", "general")
    assert short.sample(short.violations[0]) == "【最好】的伞"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("A bestseller since spring.", "general"),  # best inside a word
        ("Ask for the bestest deal", "general"),
        ("Room No.10 on the left", "general"),  # no.1 followed by a digit
        ("第一百二十期读书会本周六举行", "general"),  # 第一 runs into a number
        ("资金托管，确保本金按期划转", "finance"),  # 保本 starts inside 确保
        ("由银行担保本金划转", "finance"),
        ("Treats for your dog, hand-made", "general"),  # no listed term at all
    ],
)
def test_fragments_of_other_words_are_not_hits(
    screen: AdTextScreen, text: str, category: str
) -> None:
    assert screen.screen(text, category).hits == []


def test_terms_inside_a_longer_word_are_still_claims(screen: AdTextScreen) -> None:
    # jieba reads 天下第一 and 最舒服 as one word each: still claims
    assert _violations(screen.screen("天下第一的烧饼", "food")) == {(ABSOLUTE, "第一")}
    assert _violations(screen.screen("最舒服的枕头", "general")) == {(ABSOLUTE, "最")}


def test_overlapping_terms_keep_the_longest(screen: AdTextScreen) -> None:
    result = screen.screen("全网首发，最佳之选", "general")
    assert _violations(result) == {(ABSOLUTE, "全网首发"), (ABSOLUTE, "最佳")}


# --------------------------------------------------------------------------- lawful uses
# (text, category, names, the exclusion applied to the term)

FIRST_SAUCE = Name.of("绍兴第一酱园有限公司", COMPANY_NAME)
TOY_BRAND = Name.of("云和极品木玩有限公司", TRADEMARK)
BEST_BUY = Name.of("Best Buy Co., Ltd.", COMPANY_NAME)

LAWFUL = [
    # the advertiser's registered name and the brands it sells
    ("第一酱园新酱油上市，满99元包邮", "food", [FIRST_SAUCE], "第一", COMPANY_NAME),
    ("极品木玩积木套装，榉木材质", "general", [TOY_BRAND], "极品", TRADEMARK),
    ("Best Buy weekend deals on laptops", "general", [BEST_BUY], "best", COMPANY_NAME),
    # usage tips
    ("护手霜的最佳使用时间是洗手之后", "cosmetics", [], "最佳", USAGE_TIPS),
    ("酸奶最佳饮用温度为4℃", "food", [], "最佳", USAGE_TIPS),
    ("开封后最好冷藏保存", "food", [], "最好", USAGE_TIPS),
    ("Pu-erh tea: the best time to drink it is after lunch.", "food", [], "best", USAGE_TIPS),
    ("Best served chilled.", "food", [], "best", USAGE_TIPS),
    ("For best results, apply at night.", "cosmetics", [], "best", USAGE_TIPS),
    # officially awarded titles
    ("国家级非物质文化遗产龙泉宝剑锻制技艺", "general", [], "国家级", OFFICIAL_TITLE),
    ("国家级高新技术企业出品的净水器", "general", [], "国家级", OFFICIAL_TITLE),
    ("坐落于国家级风景名胜区的民宿", "general", [], "国家级", OFFICIAL_TITLE),
    # truthful comparisons within one's own range
    ("本店最新款折叠伞已到货", "general", [], "最", OWN_RANGE),
    ("本店最低价，仅限今日", "general", [], "最低价", OWN_RANGE),
    ("店内最畅销的款式补货了", "general", [], "最", OWN_RANGE),
    ("Our best-selling backpack is back.", "general", [], "best", OWN_RANGE),
    ("The best jacket in our range for rain.", "general", [], "best", OWN_RANGE),
    # sales or share facts qualified by time, region and source
    (
        "2024年江苏省盐水鸭线上销量第一（数据来源：南京市商务局）",
        "food",
        [],
        "第一",
        QUALIFIED_FACT,
    ),
    (
        "据中国家用电器研究院统计，2024年浙江省电饭煲线上销量第一",
        "general",
        [],
        "第一",
        QUALIFIED_FACT,
    ),
    (
        "No.1 in market share in Jiangsu province, Q1 2024 (source: Euromonitor).",
        "general",
        [],
        "no.1",
        QUALIFIED_FACT,
    ),
    # uses that make no claim at all
    ("第一次下单立减10元", "general", [], "第一", NON_CLAIM),
    ("第一时间为您发货", "general", [], "第一", NON_CLAIM),
    ("最近很火的奶茶店", "food", [], "最", NON_CLAIM),
    ("满300最高减50元", "general", [], "最", NON_CLAIM),
    ("每单最多可叠加2张券", "general", [], "最", NON_CLAIM),
    ("现在下单最快次日达", "general", [], "最", NON_CLAIM),
    ("618第一波优惠来了", "general", [], "第一", NON_CLAIM),
    ("万能胶，粘木头粘陶瓷", "general", [], "万能", NON_CLAIM),
    ("第一，面料透气；第二，版型修身", "general", [], "第一", NON_CLAIM),
    ("治愈系香薰蜡烛", "cosmetics", [], "治愈", NON_CLAIM),
    ("这杯奶茶太治愈了", "food", [], "治愈", NON_CLAIM),
    ("杭州市第一人民医院体检套餐", "general", [], "第一", NON_CLAIM),
    ("首发价99元，限量500台", "general", [], "首发", NON_CLAIM),
    ("Best regards from the team", "general", [], "best", NON_CLAIM),
    ("A birthday gift for your best friend", "general", [], "best", NON_CLAIM),
    ("We do our best to ship within a day.", "general", [], "best", NON_CLAIM),
]
LAWFUL_CASES = [
    pytest.param(text, category, names, term, exclusion, id=f"{exclusion}:{text[:12]}")
    for text, category, names, term, exclusion in LAWFUL
]


@pytest.mark.parametrize(("text", "category", "names", "term", "exclusion"), LAWFUL_CASES)
def test_lawful_uses_are_set_aside(
    screen: AdTextScreen,
    text: str,
    category: str,
    names: list[Name],
    term: str,
    exclusion: str,
) -> None:
    result = screen.screen(text, category, names)
    assert result.violations == [], result.violations
    assert exclusion in {h.excluded for h in result.hits if normalize(h.term).text == term}


# near misses: the same kind of text, still a violation
NEAR_MISSES = [
    ("第一酱园酱油，全市第一", "food", [FIRST_SAUCE], {(ABSOLUTE, "第一")}),
    ("极品好货，榉木积木", "general", [TOY_BRAND], {(ABSOLUTE, "极品")}),
    ("Best bargains at Best Buy", "general", [BEST_BUY], {(ABSOLUTE, "best")}),
    ("护手霜是冬天的最佳选择", "cosmetics", [], {(ABSOLUTE, "最佳")}),
    ("The best time to buy is now!", "general", [], {(ABSOLUTE, "best")}),
    ("国家级品质的净水器", "general", [], {(ABSOLUTE, "国家级")}),
    ("全网最低价，仅限今日", "general", [], {(ABSOLUTE, "最低价")}),
    ("The best jacket in town.", "general", [], {(ABSOLUTE, "best")}),
    ("装修公司哪家强？我们最专业", "general", [], {(ABSOLUTE, "最")}),  # the company, not a range
    ("新一代芯片，带来最佳使用体验", "general", [], {(ABSOLUTE, "最佳")}),
    ("The best used cars in town.", "general", [], {(ABSOLUTE, "best")}),
    # no source / no region / no time, or the figure is not what ranks first
    ("2024年江苏省盐水鸭线上销量第一", "food", [], {(ABSOLUTE, "第一")}),
    ("2024年盐水鸭线上销量第一（数据来源：商务局）", "food", [], {(ABSOLUTE, "第一")}),
    ("江苏省盐水鸭线上销量第一（数据来源：商务局）", "food", [], {(ABSOLUTE, "第一")}),
    ("2024年江苏省销量领先，口味第一（数据来源：商务局）", "food", [], {(ABSOLUTE, "第一")}),
    ("第一名的烤鸭", "food", [], {(ABSOLUTE, "第一")}),
    ("最高品质的烤鸭", "food", [], {(ABSOLUTE, "最")}),
    ("最快的充电速度", "general", [], {(ABSOLUTE, "最")}),
    ("Our friends say it is the best.", "general", [], {(ABSOLUTE, "best")}),
    ("Best wishes? No: the best tea in China.", "food", [], {(ABSOLUTE, "best")}),
]


@pytest.mark.parametrize(("text", "category", "names", "expected"), NEAR_MISSES)
def test_near_misses_are_still_violations(
    screen: AdTextScreen,
    text: str,
    category: str,
    names: list[Name],
    expected: set[tuple[str, str]],
) -> None:
    assert _violations(screen.screen(text, category, names)) == expected


def test_a_qualified_fact_sets_aside_only_the_figure_it_qualifies(screen: AdTextScreen) -> None:
    text = "2024年浙江省线上销量第一的最好用面霜（数据来源：浙江省商务厅）"
    result = screen.screen(text, "cosmetics")
    assert _violations(result) == {(ABSOLUTE, "最好")}
    assert _exclusions(result) == {(ABSOLUTE, "第一", QUALIFIED_FACT)}


def test_grades_under_a_national_standard_when_a_grade_word_is_listed() -> None:
    """No shipped list holds a grade word; a regulator adding 特级 gets the exclusion."""
    store = default_store()
    zh = [*store.value("cn.advertising.absolute_terms.zh", AS_OF), "特级"]
    screen = AdTextScreen(_param({"cn.advertising.absolute_terms.zh": zh}))
    for text in ("执行标准GB/T 18650-2008 特级龙井", "特级（GB/T 18650）西湖龙井"):
        result = screen.screen(text, "food")
        assert result.violations == [], text
        assert _exclusions(result) == {(ABSOLUTE, "特级", GRADE)}, text
    assert _violations(screen.screen("特级龙井茶，明前采摘", "food")) == {(ABSOLUTE, "特级")}


NOT_DETECTABLE = {
    "motto": "a registered slogan cannot be told from a claim in the text alone",
}
EXERCISED = {exclusion for *_, exclusion in LAWFUL} | {GRADE, NEGATED}


def test_every_exclusion_class_of_the_law_store_is_exercised() -> None:
    classes = set(default_store().value("cn.advertising.absolute_terms.lawful_exclusions", AS_OF))
    assert classes - EXERCISED - set(NOT_DETECTABLE) == set()
    assert set(NOT_DETECTABLE) <= classes


# --------------------------------------------------------------------------- category rules


@pytest.mark.parametrize("category", ["food", "health_food", "cosmetics", "general", None])
def test_cure_claims_violate_outside_drugs_and_devices(
    screen: AdTextScreen, category: str | None
) -> None:
    assert (DISEASE, "根治") in _violations(screen.screen("坚持三个月，根治失眠", category))
    assert (DISEASE, "cures") in _violations(screen.screen("It cures insomnia.", category))


@pytest.mark.parametrize("category", ["drug", "medical_device"])
def test_drugs_and_devices_may_name_diseases_they_treat(
    screen: AdTextScreen, category: str
) -> None:
    indication = "布洛芬缓释胶囊，用于缓解轻至中度疼痛。请按说明书使用"
    assert screen.screen(indication, category).hits == []
    # treating a disease is no cure claim for them; guaranteeing the cure is
    assert screen.screen("本品可治愈脚气", category).hits == []
    assert _violations(screen.screen("包治脚气，无效退款", category)) == {
        (EFFICACY, "包治"),
        (EFFICACY, "无效退款"),
    }


def test_health_food_is_bound_by_both_cure_and_efficacy_rules(screen: AdTextScreen) -> None:
    assert _violations(screen.screen("这款鱼油药到病除", "health_food")) == {
        (DISEASE, "药到病除"),
        (EFFICACY, "药到病除"),
    }


@pytest.mark.parametrize("category", ["food", "cosmetics", "general", None])
def test_efficacy_guarantees_are_judged_only_for_drugs_devices_and_health_food(
    screen: AdTextScreen, category: str | None
) -> None:
    assert screen.screen("天然配方无副作用", category).hits == []


def test_guaranteed_returns_violate_in_finance_only(screen: AdTextScreen) -> None:
    assert _violations(screen.screen("稳健理财，保本保息", "finance")) == {
        (RETURN, "保本"),
        (RETURN, "保息"),
    }
    for category in ("general", "real_estate", "education", None):
        assert screen.screen("以旧换新，保本回收", category).hits == []


@pytest.mark.parametrize(
    ("text", "category", "term"),
    [
        ("本产品为非保本浮动收益型理财", "finance", "保本"),
        ("本产品不保证收益，理财有风险", "finance", "保证收益"),
        ("投资并非无风险，请谨慎决策", "finance", "无风险"),
        ("本产品不属于保本型产品", "finance", "保本"),
        ("This fund is not risk-free.", "finance", "risk-free"),
        ("There are no guaranteed returns.", "finance", "guaranteed returns"),
        ("A non-guaranteed return product.", "finance", "guaranteed return"),
        ("本品是保健食品，不能治愈疾病", "health_food", "治愈"),
        ("Our balm does not cure eczema.", "cosmetics", "cure"),
    ],
)
def test_negated_claims_are_disclosures(
    screen: AdTextScreen, text: str, category: str, term: str
) -> None:
    result = screen.screen(text, category)
    assert result.violations == [], result.violations
    assert {h.excluded for h in result.hits if normalize(h.term).text == term} == {NEGATED}


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("不仅保本，还有高收益", "保本"),  # 不仅 ("not only") is no negation
        ("不只保本，还送积分", "保本"),
        ("不用担心，稳赚不赔", "稳赚"),  # the negation is in another clause
        ("理财有风险？本金无风险", "无风险"),
        ("Not only risk-free but liquid.", "risk-free"),
    ],
)
def test_what_looks_negated_but_is_not(screen: AdTextScreen, text: str, term: str) -> None:
    assert (RETURN, normalize(term).text) in _violations(screen.screen(text, "finance"))


def test_a_negation_covers_a_list_of_claims(screen: AdTextScreen) -> None:
    result = screen.screen("本产品不承诺保本和最低收益", "finance")
    assert result.violations == []
    assert _exclusions(result) == {(RETURN, "保本", NEGATED), (ABSOLUTE, "最", NEGATED)}
    result = screen.screen("This plan is not principal guaranteed or risk-free.", "finance")
    assert result.violations == [] and len(result.excluded) == 2


def test_a_negated_absolute_term_claims_nothing(screen: AdTextScreen) -> None:
    result = screen.screen("没有最好，只有更好", "general")
    assert result.violations == [] and _exclusions(result) == {(ABSOLUTE, "最好", NEGATED)}
    result = screen.screen("不是第一不罢休，行业第一", "general")
    assert [h.excluded for h in result.hits] == [NEGATED, None]


def test_the_screen_reads_only_declared_parameters() -> None:
    seen: list[str] = []
    store = default_store()

    def param(name: str) -> Any:
        seen.append(name)
        return store.value(name, AS_OF)

    AdTextScreen(param)
    assert set(seen) <= set(ad_text.PARAMETERS)
