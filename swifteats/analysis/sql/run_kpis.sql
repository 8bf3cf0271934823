-- One row per run: outcomes (undelivered_share: of all orders); click-to-door over the
-- delivered orders and over all (click_to_door_all: an undelivered order counts from its
-- placement to the end of the day's last shift), ready-to-pickup and ready-to-door (minutes);
-- the chosen drivers' distance to the restaurant (km) and slack (minutes the driver is
-- early for the food; below 0 the food waits); the fleet's hours and utilisation (share of
-- on-shift time busy); attempts, failures, retries, the most requests in flight (paced
-- runs' backlog). Percentiles interpolate linearly.
WITH order_stats AS (
    SELECT
        o.run_id,
        count(*) AS orders,
        count(*) FILTER (WHERE o.outcome = 'delivered') AS delivered,
        count(*) FILTER (WHERE o.outcome = 'never_assigned') AS never_assigned,
        avg(o.click_to_door) AS click_to_door_mean,
        quantile_cont(o.click_to_door, 0.5) AS click_to_door_p50,
        quantile_cont(o.click_to_door, 0.9) AS click_to_door_p90,
        max(o.click_to_door) AS click_to_door_max,
        avg(o.click_to_door_all) AS click_to_door_all_mean,
        quantile_cont(o.click_to_door_all, 0.9) AS click_to_door_all_p90,
        avg(o.ready_to_pickup) AS ready_to_pickup_mean,
        quantile_cont(o.ready_to_pickup, 0.5) AS ready_to_pickup_p50,
        quantile_cont(o.ready_to_pickup, 0.9) AS ready_to_pickup_p90,
        max(o.ready_to_pickup) AS ready_to_pickup_max,
        avg(o.ready_to_door) AS ready_to_door_mean,
        quantile_cont(o.ready_to_door, 0.5) AS ready_to_door_p50,
        quantile_cont(o.ready_to_door, 0.9) AS ready_to_door_p90,
        max(o.ready_to_door) AS ready_to_door_max,
        avg(c.distance_km) AS distance_km_mean,
        quantile_cont(c.distance_km, 0.5) AS distance_km_p50,
        quantile_cont(c.distance_km, 0.9) AS distance_km_p90,
        max(c.distance_km) AS distance_km_max,
        avg(c.slack) AS slack_mean,
        quantile_cont(c.slack, 0.1) AS slack_p10,
        quantile_cont(c.slack, 0.5) AS slack_p50,
        quantile_cont(c.slack, 0.9) AS slack_p90,
        avg(CAST(c.slack < 0 AS DOUBLE)) AS negative_slack_share,
        sum(o.attempts) AS attempts,
        sum(greatest(o.attempts - 1, 0)) AS retries,
        count(*) FILTER (WHERE o.attempts > 1) AS orders_retried
    FROM orders AS o
    LEFT JOIN chosen AS c USING (run_id, order_id)
    GROUP BY o.run_id
),
answers AS (
    SELECT
        run_id,
        count(*) FILTER (WHERE NOT assigned) AS failed_attempts,
        max(in_flight) AS in_flight_max
    FROM latency
    GROUP BY run_id
),
fleet AS (
    SELECT
        run_id,
        count(DISTINCT driver_id) AS drivers,
        coalesce(sum(minutes) FILTER (WHERE on_shift), 0) / 60 AS driver_hours,
        coalesce(sum(minutes) FILTER (WHERE busy), 0) / 60 AS busy_hours
    FROM driver_spans
    GROUP BY run_id
)
SELECT
    r.run_id,
    s.* EXCLUDE (run_id),
    s.delivered / nullif(s.orders, 0) AS delivered_share,
    s.never_assigned / nullif(s.orders, 0) AS undelivered_share,
    a.failed_attempts,
    a.in_flight_max,
    f.drivers,
    f.driver_hours,
    f.busy_hours,
    f.busy_hours / nullif(f.driver_hours, 0) AS utilisation,
    s.delivered / nullif(f.driver_hours, 0) AS orders_per_driver_hour
FROM runs AS r
LEFT JOIN order_stats AS s USING (run_id)
LEFT JOIN answers AS a USING (run_id)
LEFT JOIN fleet AS f USING (run_id)
ORDER BY r.run_no
