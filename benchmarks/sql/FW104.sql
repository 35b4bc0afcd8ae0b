-- FW104 engine phase, hand-written: the same aggregation as PriceCollusionScreen.summarize:
-- per seller, category and China-local day, the mean of its offers' daily log public price
-- relative to each offer's own mean level (a price index), the offers' mean level and the
-- (population) variance of their daily log prices.
WITH daily AS (
  SELECT sku_id, CAST(ts + INTERVAL 8 HOUR AS DATE) AS day, avg(ln(list_price)) AS lp
  FROM {price_quotes}
  WHERE list_price IS NOT NULL AND list_price > 0
  GROUP BY ALL
),
offers AS (
  SELECT d.*, p.platform_id, p.merchant_id, p.category,
         avg(d.lp) OVER (PARTITION BY d.sku_id) AS ref
  FROM daily AS d JOIN {products} AS p USING (sku_id)
)
SELECT category, platform_id, merchant_id, day,
       count(*) AS skus, avg(lp - ref) AS idx, avg(ref) AS ref, var_pop(lp) AS within
FROM offers
GROUP BY ALL
