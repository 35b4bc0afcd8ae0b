-- FW402 engine phase, hand-written: paid ads shown without the ad label
SELECT ad_id, platform_id, format, text, CAST(ts + INTERVAL 8 HOUR AS DATE) AS day
FROM {ads}
WHERE paid AND NOT labeled_as_ad
