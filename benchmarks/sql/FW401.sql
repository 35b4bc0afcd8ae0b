-- FW401 engine phase, hand-written: the ads with a text, with their China-local day
SELECT ad_id, platform_id, advertiser_id, merchant_id, text, language, product_category,
       CAST(ts + INTERVAL 8 HOUR AS DATE) AS day
FROM {ads}
WHERE text IS NOT NULL
