-- Order by order, run $run_a against run $run_b: the drivers, click-to-door (minutes) and
-- its change (b minus a); ``changed`` when the order went to another driver (or none).
WITH a AS (SELECT * FROM orders WHERE run_id = $run_a),
b AS (SELECT * FROM orders WHERE run_id = $run_b)
SELECT
    order_id,
    a.driver_id AS driver_a,
    b.driver_id AS driver_b,
    a.click_to_door AS click_to_door_a,
    b.click_to_door AS click_to_door_b,
    b.click_to_door - a.click_to_door AS delta,
    a.driver_id IS DISTINCT FROM b.driver_id AS changed,
    a.outcome AS outcome_a,
    b.outcome AS outcome_b
FROM a
FULL JOIN b USING (order_id)
ORDER BY coalesce(a.row_no, b.row_no), order_id
