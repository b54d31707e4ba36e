"""ECS task scale-in protection while a job runs, via `$ECS_AGENT_URI/task-protection/v1/state`.

A no-op when ECS_AGENT_URI is unset (outside ECS). The task role needs `ecs:UpdateTaskProtection` and
`ecs:GetTaskProtection`; a refused or unreachable agent is logged, never fatal: the job still runs.
"""

import json
import logging
import os
import time
import urllib.error
import urllib.request

AGENT_URI_ENV = "ECS_AGENT_URI"
STATE_PATH = "/task-protection/v1/state"
log = logging.getLogger("sdk.jobs.protection")


class TaskProtection:
    def __init__(self, agent_uri: str | None, expires_minutes: int = 60, timeout: float = 2.0) -> None:
        self._url = agent_uri.rstrip("/") + STATE_PATH if agent_uri else None
        self._minutes = expires_minutes
        self._timeout = timeout
        self._until = 0.0  # epoch seconds the current grant lasts; 0 = not protected

    @classmethod
    def from_env(cls, expires_minutes: int = 60) -> "TaskProtection":
        return cls(os.environ.get(AGENT_URI_ENV) or None, expires_minutes)

    @property
    def available(self) -> bool:
        return self._url is not None

    @property
    def active(self) -> bool:
        return self._until > time.time()

    def enable(self) -> bool:
        """Protect the task; renews only when less than half of the grant is left."""
        if self._url is None:
            return False
        if self._until - time.time() > self._minutes * 30:
            return True
        if self._put({"ProtectionEnabled": True, "ExpiresInMinutes": self._minutes}):
            self._until = time.time() + self._minutes * 60
            return True
        return False

    def disable(self) -> bool:
        if self._url is None or not self._until:
            return False
        ok = self._put({"ProtectionEnabled": False})
        if ok:
            self._until = 0.0
        return ok

    def _put(self, body: dict[str, object]) -> bool:
        assert self._url is not None
        request = urllib.request.Request(
            self._url,
            data=json.dumps(body).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                answer = json.loads(response.read() or b"{}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("task protection request failed", extra={"error": str(exc), "request": body})
            return False
        if answer.get("failure") or answer.get("error"):
            log.warning("task protection refused", extra={"answer": answer, "request": body})
            return False
        return True
