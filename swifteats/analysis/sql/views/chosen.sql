-- The candidate each order was given: its driver's distance, slack and score terms
-- (the last attempt that chose someone; none for orders never assigned or live runs).
CREATE VIEW chosen AS
SELECT
    run_id,
    order_id,
    attempt,
    driver_id,
    score,
    distance_km,
    slack,
    eta_to_restaurant,
    total_eta
FROM decisions
WHERE chosen
QUALIFY row_number() OVER (PARTITION BY run_id, order_id ORDER BY attempt DESC, "rank") = 1;
