"""The stacks a user would pick instead of bare-api, with the same GET /health and GET /me.

Each is written the way its framework's own documentation shows, and uses the
same database and the same ``profiles`` documents (``_id`` is the caller's
``sub``; created from the authorizer's claims on the first call).
"""
