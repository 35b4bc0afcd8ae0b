-- FW202 engine phase, hand-written: the same aggregation as SelfPreference.summarize —
-- per offer its median list price, the counts of its reviews by star (all reviews and
-- order-backed ones), the same for its store, and its paid orders
WITH prices AS (
  SELECT sku_id, median(list_price) AS price
  FROM {price_quotes}
  WHERE list_price IS NOT NULL AND list_price > 0
  GROUP BY sku_id
),
r AS (
  SELECT sku_id, merchant_id, least(greatest(CAST(round(rating) AS BIGINT), 1), 5) AS star,
         order_id IS NOT NULL AS v
  FROM {reviews}
  WHERE rating IS NOT NULL
),
per_sku AS (
  SELECT sku_id,
         sum(CASE WHEN star = 1 THEN 1 ELSE 0 END) AS r_a1,
         sum(CASE WHEN star = 1 AND v THEN 1 ELSE 0 END) AS r_v1,
         sum(CASE WHEN star = 2 THEN 1 ELSE 0 END) AS r_a2,
         sum(CASE WHEN star = 2 AND v THEN 1 ELSE 0 END) AS r_v2,
         sum(CASE WHEN star = 3 THEN 1 ELSE 0 END) AS r_a3,
         sum(CASE WHEN star = 3 AND v THEN 1 ELSE 0 END) AS r_v3,
         sum(CASE WHEN star = 4 THEN 1 ELSE 0 END) AS r_a4,
         sum(CASE WHEN star = 4 AND v THEN 1 ELSE 0 END) AS r_v4,
         sum(CASE WHEN star = 5 THEN 1 ELSE 0 END) AS r_a5,
         sum(CASE WHEN star = 5 AND v THEN 1 ELSE 0 END) AS r_v5
  FROM r WHERE sku_id IS NOT NULL GROUP BY sku_id
),
per_store AS (
  SELECT merchant_id,
         sum(CASE WHEN star = 1 THEN 1 ELSE 0 END) AS m_a1,
         sum(CASE WHEN star = 1 AND v THEN 1 ELSE 0 END) AS m_v1,
         sum(CASE WHEN star = 2 THEN 1 ELSE 0 END) AS m_a2,
         sum(CASE WHEN star = 2 AND v THEN 1 ELSE 0 END) AS m_v2,
         sum(CASE WHEN star = 3 THEN 1 ELSE 0 END) AS m_a3,
         sum(CASE WHEN star = 3 AND v THEN 1 ELSE 0 END) AS m_v3,
         sum(CASE WHEN star = 4 THEN 1 ELSE 0 END) AS m_a4,
         sum(CASE WHEN star = 4 AND v THEN 1 ELSE 0 END) AS m_v4,
         sum(CASE WHEN star = 5 THEN 1 ELSE 0 END) AS m_a5,
         sum(CASE WHEN star = 5 AND v THEN 1 ELSE 0 END) AS m_v5
  FROM r WHERE merchant_id IS NOT NULL GROUP BY merchant_id
),
sales AS (
  SELECT sku_id, count(*) AS sales
  FROM {orders}
  WHERE status = 'paid' AND sku_id IS NOT NULL
  GROUP BY sku_id
)
SELECT p.sku_id, p.platform_id, p.merchant_id, p.category, p.self_operated, prices.price,
       r_a1, r_a2, r_a3, r_a4, r_a5, r_v1, r_v2, r_v3, r_v4, r_v5, m_a1, m_a2, m_a3, m_a4, m_a5, m_v1, m_v2, m_v3, m_v4, m_v5,
       coalesce(sales.sales, 0) AS sales
FROM {products} AS p
LEFT JOIN prices USING (sku_id)
LEFT JOIN per_sku USING (sku_id)
LEFT JOIN per_store USING (merchant_id)
LEFT JOIN sales USING (sku_id)
