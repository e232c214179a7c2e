"""shopkit's SQLite database backend (ENGINE ``shopkit.sqlite``): Django's, with a write lock that is handed over at once."""
