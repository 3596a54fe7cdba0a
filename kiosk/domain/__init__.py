"""Domain logic: plain Python and SQLAlchemy sessions, no Flask. Tested without a server."""
