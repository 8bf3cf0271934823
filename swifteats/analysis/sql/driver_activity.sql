-- One row per driver of each run: minutes on shift and busy, utilisation, deliveries.
WITH deliveries AS (
    SELECT run_id, driver_id, count(*) AS deliveries
    FROM orders
    WHERE outcome = 'delivered'
    GROUP BY run_id, driver_id
)
SELECT
    s.run_id,
    s.driver_id,
    sum(s.minutes) FILTER (WHERE s.on_shift) AS on_shift_min,
    coalesce(sum(s.minutes) FILTER (WHERE s.busy), 0) AS busy_min,
    coalesce(sum(s.minutes) FILTER (WHERE s.busy), 0)
        / nullif(sum(s.minutes) FILTER (WHERE s.on_shift), 0) AS utilisation,
    coalesce(any_value(d.deliveries), 0) AS deliveries
FROM driver_spans AS s
JOIN runs AS r USING (run_id)
LEFT JOIN deliveries AS d USING (run_id, driver_id)
GROUP BY s.run_id, s.driver_id
ORDER BY any_value(r.run_no), s.driver_id
