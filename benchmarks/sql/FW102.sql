-- FW102 engine phase, hand-written: quotes per offer and local day, for offers that show a claim
WITH per_day AS (
  SELECT sku_id, CAST(ts + INTERVAL 8 HOUR AS DATE) AS day,
         max(platform_id) AS platform_id,
         max(claimed_original_price) AS claimed,
         sum(CASE WHEN claimed_original_price IS NOT NULL THEN 1 ELSE 0 END) AS quotes,
         sum(CASE WHEN claimed_original_price IS NULL THEN 1 ELSE 0 END) AS plain
  FROM {price_quotes}
  GROUP BY ALL
)
SELECT * FROM per_day
QUALIFY max(claimed) OVER (PARTITION BY sku_id) IS NOT NULL
