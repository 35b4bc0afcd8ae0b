-- FW103 engine phase, hand-written: the same aggregation as EmergencyPriceGouging.summarize
-- at the benchmark's as-of date (2025-12-31) with the 28-day baseline window: the mean log
-- public price per offer and China-local day, from 28 days before the earliest declaration
-- to the last emergency day (the day before lifting, or the as-of date), for the categories
-- the emergencies concern (all when one has no list), with the merchant's region.
WITH em AS (
  SELECT declared_on, categories,
         least(coalesce(CAST(lifted_on - INTERVAL 1 DAY AS DATE), DATE '2025-12-31'),
               DATE '2025-12-31') AS last_day
  FROM {emergencies}
  WHERE declared_on <= DATE '2025-12-31'
),
live AS (
  SELECT * FROM em WHERE last_day >= declared_on AND (categories IS NULL OR len(categories) > 0)
),
bounds AS (
  SELECT CAST(min(declared_on) - INTERVAL 28 DAY AS DATE) AS lo, max(last_day) AS hi,
         bool_or(categories IS NULL) AS every_category
  FROM live
),
wanted AS (SELECT DISTINCT unnest(categories) AS category FROM live WHERE categories IS NOT NULL),
daily AS (
  SELECT q.sku_id, CAST(q.ts + INTERVAL 8 HOUR AS DATE) AS day,
         count(*) AS quotes, avg(ln(q.list_price)) AS lp
  FROM {price_quotes} AS q, bounds AS b
  WHERE q.list_price IS NOT NULL AND q.list_price > 0
    AND CAST(q.ts + INTERVAL 8 HOUR AS DATE) BETWEEN b.lo AND b.hi
  GROUP BY q.sku_id, day
)
SELECT d.sku_id, p.platform_id, p.merchant_id, p.category, m.region_code AS merchant_region,
       d.day, d.quotes, d.lp
FROM daily AS d
JOIN {products} AS p USING (sku_id)
LEFT JOIN {merchants} AS m USING (merchant_id)
WHERE (SELECT every_category FROM bounds) OR p.category IN (SELECT category FROM wanted)
