-- Every attempt for order $order_id, with each candidate ranked and its score terms
-- (an attempt that found no candidate is one row without a driver).
SELECT
    order_id,
    attempt,
    coalesce(d.time_min, l.time_min) AS time_min,
    l.assigned,
    l.error,
    d.drivers_in_area,
    d."rank",
    d.driver_id,
    d.chosen,
    d.score,
    d.slack_term,
    d.distance_term,
    d.eta_term,
    d.wait_term,
    d.supply_term,
    d.distance_km,
    d.slack,
    d.eta_to_restaurant,
    d.total_eta
FROM (SELECT * FROM decisions WHERE order_id = $order_id) AS d
FULL JOIN (SELECT * FROM latency WHERE order_id = $order_id) AS l
    USING (run_id, order_id, attempt)
ORDER BY attempt, d."rank"
