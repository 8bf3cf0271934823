-- Two points per order, its restaurant and its customer, with what became of the order.
SELECT
    o.order_id,
    p.point,
    p.latitude,
    p.longitude,
    o.restaurant_id,
    o.outcome,
    o.driver_id,
    o.click_to_door
FROM orders AS o,
    LATERAL (VALUES
        (1, 'restaurant', o.restaurant_lat, o.restaurant_lon),
        (2, 'customer', o.customer_lat, o.customer_lon)
    ) AS p (point_no, point, latitude, longitude)
ORDER BY o.row_no, p.point_no
