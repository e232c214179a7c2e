"""The catalog app: categories, products, stock levels, and the reservations of the order saga."""
