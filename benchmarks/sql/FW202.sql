-- FW202 engine phase, hand-written: the same aggregation as SelfPreference.summarize —
-- per offer its median list price, rating sums (all and order-backed reviews, of the
-- offer and of its store) and paid orders
WITH prices AS (
  SELECT sku_id, median(list_price) AS price
  FROM {price_quotes}
  WHERE list_price IS NOT NULL AND list_price > 0
  GROUP BY sku_id
),
r AS (
  SELECT sku_id, merchant_id, CAST(rating AS DOUBLE) AS rating, order_id IS NOT NULL AS v
  FROM {reviews}
  WHERE rating IS NOT NULL
),
per_sku AS (
  SELECT sku_id, count(*) AS r_n, sum(rating) AS r_s, sum(rating * rating) AS r_ss,
         sum(CASE WHEN v THEN 1 ELSE 0 END) AS r_vn,
         sum(CASE WHEN v THEN rating ELSE 0 END) AS r_vs,
         sum(CASE WHEN v THEN rating * rating ELSE 0 END) AS r_vss
  FROM r WHERE sku_id IS NOT NULL GROUP BY sku_id
),
per_store AS (
  SELECT merchant_id, count(*) AS m_n, sum(rating) AS m_s, sum(rating * rating) AS m_ss,
         sum(CASE WHEN v THEN 1 ELSE 0 END) AS m_vn,
         sum(CASE WHEN v THEN rating ELSE 0 END) AS m_vs,
         sum(CASE WHEN v THEN rating * rating ELSE 0 END) AS m_vss
  FROM r WHERE merchant_id IS NOT NULL GROUP BY merchant_id
),
sales AS (
  SELECT sku_id, count(*) AS sales
  FROM {orders}
  WHERE status = 'paid' AND sku_id IS NOT NULL
  GROUP BY sku_id
)
SELECT p.sku_id, p.platform_id, p.merchant_id, p.category, p.self_operated, prices.price,
       per_sku.r_n, per_sku.r_s, per_sku.r_ss, per_sku.r_vn, per_sku.r_vs, per_sku.r_vss,
       per_store.m_n, per_store.m_s, per_store.m_ss, per_store.m_vn, per_store.m_vs,
       per_store.m_vss,
       coalesce(sales.sales, 0) AS sales
FROM {products} AS p
LEFT JOIN prices USING (sku_id)
LEFT JOIN per_sku USING (sku_id)
LEFT JOIN per_store USING (merchant_id)
LEFT JOIN sales USING (sku_id)
