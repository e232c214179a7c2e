"""Orders: placement against a product replica, the order side of the saga, and the order routes."""
