"""The design's message schemas (../shared/docs/SEED_DESIGN.md), shared by the tests."""

REQUEST_KEYS = [
    "eventId",
    "eventType",
    "occurredAt",
    "orderId",
    "geoKey",
    "restaurantLatitude",
    "restaurantLongitude",
    "customerLatitude",
    "customerLongitude",
    "preparationTime",
    "radius",
    "items",
    "totalAmount",
    "specialInstructions",
]
SUCCESS_KEYS = ["orderId", "driverId", "eta", "assignedAt", "status"]
FAILURE_KEYS = ["orderId", "error", "failedAt", "status"]
