"""The profile example: a resource built on the toolkit (``shared/``), served by ``handlers/me.py`` and
``handlers/users.py``. ``store`` keeps the profile documents, ``schema`` declares their writable fields.

Removing this package and those two handler modules, then running ``make generate``, leaves the empty API
(health and the authorizer).
"""
