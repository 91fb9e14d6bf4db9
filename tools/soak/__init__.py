"""Load and fault runs against the local stack: the database's atomicity (``direct``) and the API under kills."""
