-- Every order of every run with the chosen candidate's distance (km) and slack (minutes).
SELECT o.* EXCLUDE (row_no), c.distance_km, c.slack
FROM orders AS o
JOIN runs AS r USING (run_id)
LEFT JOIN chosen AS c USING (run_id, order_id)
ORDER BY r.run_no, o.row_no
