-- FW101 engine phase, hand-written: per offer, attribute and group, the count, sum and
-- sum of squares of d = ln(pre-coupon price / list price). GROUPING SETS computes the
-- four marginal groupings in one scan (the Ibis expression unnests instead).
WITH q AS (
  SELECT sku_id, platform_id,
         ln((quoted_price + coalesce(coupon_cny, 0)) / list_price) AS d,
         CAST(ts + INTERVAL 8 HOUR AS DATE) AS day,
         CASE WHEN user_tenure_days IS NULL THEN NULL
              WHEN user_tenure_days < 30 THEN '<30d'
              WHEN user_tenure_days < 180 THEN '<180d'
              WHEN user_tenure_days < 365 THEN '<365d'
              ELSE '>=365d' END AS tenure,
         CAST(user_is_member AS VARCHAR) AS member, user_device AS device,
         user_region_code AS region
  FROM {price_quotes}
  WHERE list_price IS NOT NULL AND list_price > 0 AND quoted_price IS NOT NULL
    AND NOT coalesce(member_price, false)
)
SELECT sku_id, platform_id, tenure, member, device, region,
       count(*) AS n, sum(d) AS s, sum(d * d) AS ss, min(day) AS first_day, max(day) AS last_day
FROM q
GROUP BY GROUPING SETS (
  (sku_id, platform_id, tenure), (sku_id, platform_id, member),
  (sku_id, platform_id, device), (sku_id, platform_id, region)
)
