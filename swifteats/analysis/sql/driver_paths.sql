-- Each driver's positions in time order, with the state held from there and whether busy.
SELECT driver_id, start_min AS time_min, end_min, state, busy, latitude, longitude
FROM driver_spans
ORDER BY driver_id, start_min, row_no
