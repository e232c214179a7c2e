"""The email service's app: the delivery ledger, templated notifications and the SMTP sender."""
