-- FW403 engine phase, hand-written: pop-up, splash and in-video ads (the one-click formats
-- at the as-of date) that cannot be closed, need more than one click, or count down first
SELECT ad_id, platform_id, format, close_clicks, close_delay_s,
       CAST(ts + INTERVAL 8 HOUR AS DATE) AS day
FROM {ads}
WHERE format IN ('popup', 'splash', 'video')
  AND coalesce(close_clicks = 0 OR close_clicks > 1 OR close_delay_s > 0, false)
