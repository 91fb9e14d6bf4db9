"""The small library every function imports: router, request view, responses, data access."""
