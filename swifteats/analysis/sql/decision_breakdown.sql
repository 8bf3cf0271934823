-- Every attempt for order $order_id, with each candidate ranked and its score terms
-- (an attempt that found no candidate is one row without a driver). Windowed policies:
-- each window that matched the order (decision started, queued or postponed) with the
-- matching cost and its terms, and the runners-up (kind other_driver, other_orders).
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
    d.idle_term,
    d.distance_km,
    d.slack,
    d.eta_to_restaurant,
    d.total_eta,
    d.decision,
    d.kind,
    d.bundle,
    d.cost,
    d.customer_minutes,
    d.courier_minutes,
    d.worth,
    d.leave_by
FROM (SELECT * FROM decisions WHERE order_id = $order_id) AS d
FULL JOIN (SELECT * FROM latency WHERE order_id = $order_id) AS l
    USING (run_id, order_id, attempt)
ORDER BY attempt, coalesce(d.time_min, l.time_min), d."rank"
