"""Task scale-in protection against a real local HTTP server standing in for the ECS agent endpoint."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sdk.jobs import TaskProtection
from sdk.jobs.protection import STATE_PATH


class Agent:
    """Records every request; answers like the ECS agent (`protection`, or `failure` when told to refuse)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.refuse = False
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                agent.requests.append(("PUT", self.path, body))
                answer = {"failure": {"Reason": "denied"}} if agent.refuse else {"protection": {**body}}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/v4/task-uuid"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def agent() -> Iterator[Agent]:
    running = Agent()
    yield running
    running.server.shutdown()


def test_enable_and_disable_put_the_agent_state(agent: Agent) -> None:
    # GIVEN protection pointed at the agent
    protection = TaskProtection(agent.uri, expires_minutes=45)
    # WHEN it is enabled twice (the grant is still fresh) and disabled
    assert protection.enable() and protection.active
    assert protection.enable()
    assert protection.disable() and not protection.active
    # THEN the agent saw one grant and one release on the documented path
    path = f"/v4/task-uuid{STATE_PATH}"
    assert agent.requests == [
        ("PUT", path, {"ProtectionEnabled": True, "ExpiresInMinutes": 45}),
        ("PUT", path, {"ProtectionEnabled": False}),
    ]


def test_without_an_agent_uri_protection_is_a_no_op() -> None:
    protection = TaskProtection(None)
    assert (protection.available, protection.enable(), protection.disable()) == (False, False, False)


def test_an_agent_refusal_is_reported_not_raised(agent: Agent) -> None:
    agent.refuse = True
    assert TaskProtection(agent.uri).enable() is False
    assert len(agent.requests) == 1


def test_an_unreachable_agent_is_reported_not_raised(agent: Agent) -> None:
    uri = agent.uri
    agent.server.shutdown()
    agent.server.server_close()
    assert TaskProtection(uri, 5).enable() is False


def test_a_worker_protects_its_task_while_a_job_runs(agent: Agent, jobs, monkeypatch) -> None:
    # GIVEN a worker in an ECS task and a handler that notes what the agent saw while it ran
    monkeypatch.setenv("ECS_AGENT_URI", agent.uri)
    seen: list[int] = []
    job_id = jobs.client.submit("render", {})
    worker = jobs.worker(lambda ctx: seen.append(len(agent.requests)))
    # WHEN it runs the job and then finds the queue empty
    assert worker.run_once()
    assert not worker.run_once()
    # THEN protection was on during the job and switched off once idle
    assert seen == [1]
    assert [body["ProtectionEnabled"] for _, _, body in agent.requests] == [True, False]
    assert jobs.client.status(job_id).status.value == "SUCCEEDED"
