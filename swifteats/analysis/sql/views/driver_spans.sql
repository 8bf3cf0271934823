-- The drivers' timeline as spans: each state lasts until the driver's next row
-- (rows at the same minute keep their order in the file). A driver is on shift in
-- every state but offline, and busy from being assigned until free at the door.
CREATE VIEW driver_spans AS
SELECT
    run_id,
    driver_id,
    row_no,
    "time" AS start_min,
    lead("time") OVER span AS end_min,
    coalesce(lead("time") OVER span - "time", 0) AS minutes,
    state,
    state <> 'offline' AS on_shift,
    state IN ('to_restaurant', 'at_restaurant', 'to_customer', 'at_customer', 'moving') AS busy,
    latitude,
    longitude
FROM drivers
WINDOW span AS (PARTITION BY run_id, driver_id ORDER BY "time", row_no);
