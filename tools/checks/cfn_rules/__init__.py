"""cfn-lint rules for the deploy-time mistakes cfn-lint has no rule for (loaded with ``--append-rules``)."""
