"""Plain builders the orders tests share: a valid shipping address."""

ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "line2": "", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}
