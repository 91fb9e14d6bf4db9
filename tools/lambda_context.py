"""The one fake of Lambda's context object, for what runs a handler locally: the gateway's workers
(:mod:`tools.gateway.runner`), ``make invoke`` (:mod:`tools.invoke`) and the benchmark's processes.

Standard library only, and nothing at import but a class: the benchmark's cold start imports it.
"""

from __future__ import annotations

import os
import time

DEFAULT_TIMEOUT_SECONDS = 10.0
ACCOUNT = "123456789012"


class Context:
    """The parts of Lambda's context object that handlers, frameworks and logs read.

    The function's name, version, memory and region are the ``AWS_LAMBDA_FUNCTION_*`` and
    ``AWS_REGION`` variables Lambda sets, when set; ``deadline_ms`` is the invocation's deadline
    in milliseconds since the epoch (default: ``DEFAULT_TIMEOUT_SECONDS`` from now).
    """

    def __init__(
        self,
        function_name: str | None = None,
        request_id: str = "00000000-0000-4000-8000-000000000000",
        deadline_ms: float | None = None,
    ) -> None:
        self.function_name = function_name or os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self.aws_request_id = request_id
        self._deadline_ms = time.time() * 1000 + DEFAULT_TIMEOUT_SECONDS * 1000 if deadline_ms is None else deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the deadline, never below 0."""
        return max(0, int(self._deadline_ms - time.time() * 1000))
