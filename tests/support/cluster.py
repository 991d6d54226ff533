"""The scale-out topology on one machine: PostgreSQL tracker store, Redis lock store, two
action servers and two Rasa servers behind nginx, sharing one order store. Started by the
same code for `make test-scale` (tests/scale) and `make bench-scale` (bench/scale/)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.services import Nginx, Postgres, Redis, ensure_packages
from tests.support.stack import ROOT, free_port, service_env, start_action_server, start_rasa, wait_for

MODEL = ROOT / "models" / "current.tar.gz"
AUTH_TOKEN = "scale-test-api-token-0123456789"
# The REST channel's bearer token: the edge passes REST calls only with one (README, "Scale-out").
REST_TOKEN = "scale-test-rest-token-0123456789"


@dataclass
class Cluster:
    workdir: Path
    postgres: Postgres
    redis: Redis
    nginx: Nginx
    env: dict[str, str]
    rasa_ports: list[int]
    action_ports: list[int]
    rasa: list[subprocess.Popen] = field(default_factory=list)
    actions: list[subprocess.Popen] = field(default_factory=list)

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]

    def start_rasa(self, index: int) -> None:
        log = self.workdir / f"rasa{index}.log"
        process = start_rasa(
            MODEL, self.rasa_ports[index], ROOT / "deploy" / "endpoints.scale.yml",
            {**self.env, "RASA_SERVER_ID": f"rasa-{index + 1}"}, log,
            ("--enable-api", "--auth-token", AUTH_TOKEN),
        )  # fmt: skip
        if index < len(self.rasa):
            self.rasa[index] = process
        else:
            self.rasa.append(process)

    def wait_rasa(self, index: int) -> None:
        wait_for(f"{self.rasa_urls[index]}/", self.rasa[index], self.workdir / f"rasa{index}.log")

    def stop_rasa(self, index: int) -> None:
        self.rasa[index].terminate()
        self.rasa[index].wait(timeout=30)

    @property
    def order_db(self) -> str:
        """Where both action servers keep orders: a PostgreSQL database on the same server."""
        return self.env["ORDER_DB_URL"]

    def order_store(self):
        from actions.demo_data import open_demo_store

        return open_demo_store(self.order_db)


@contextmanager
def running_cluster(work: Path, extra_env: dict[str, str] | None = None) -> Iterator[Cluster]:
    """The whole topology, started in `work`; stopped (and PostgreSQL's files removed) after."""
    if not MODEL.exists():
        raise RuntimeError(f"no trained model at {MODEL}: run `make train` first")
    ensure_packages()
    postgres, redis = Postgres(work / "pg"), Redis(work)
    rasa_ports, action_ports = [free_port(), free_port()], [free_port(), free_port()]
    nginx = Nginx(work, rasa_ports, action_ports)
    env = service_env(
        {
            # Orders in PostgreSQL too, as on several hosts (issue 16); the file is not used.
            "ORDER_DB_URL": postgres.url(postgres.new_database()),
            "ORDER_DB_PATH": str(work / "orders-unused.db"),
            "ACTION_ENDPOINT_URL": f"{nginx.actions_url}/webhook",
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(postgres.port),
            "DB_NAME": "rasa",
            "DB_USER": "postgres",
            "DB_PASSWORD": "",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(redis.port),
            "REDIS_DB": "0",
            "REST_CHANNEL_TOKEN": REST_TOKEN,
            # The handoff queue, in the order database both action servers share.
            "HANDOFF_QUEUE": "on",
            **(extra_env or {}),
        }
    )
    cluster = Cluster(work, postgres, redis, nginx, env, rasa_ports, action_ports)
    try:
        for index, port in enumerate(action_ports):
            cluster.actions.append(start_action_server(port, env, work / f"actions{index}.log"))
        for index in range(len(rasa_ports)):
            cluster.start_rasa(index)
        for index, port in enumerate(action_ports):
            wait_for(f"http://127.0.0.1:{port}/health", cluster.actions[index], work / f"actions{index}.log")
        for index in range(len(rasa_ports)):
            cluster.wait_rasa(index)
        yield cluster
    finally:
        for process in cluster.rasa + cluster.actions:
            process.terminate()
        for process in cluster.rasa + cluster.actions:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for service in (nginx, redis, postgres):
            with suppress(Exception):
                service.stop()
        postgres.remove()


# The faults of the benchmark and of the tests (a process crash, a frozen database).
POSTGRES_PAUSE_S = 3.0


# --- processes -------------------------------------------------------------------------------


def read_processes() -> dict[int, tuple[int, int]]:
    """Every process: pid → (parent pid, CPU ticks used), from /proc."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        table[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return table


def process_tree(root: int, table: dict[int, tuple[int, int]]) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            found.append(pid)
            todo.extend(children.get(pid, []))
    return found


# --- faults ----------------------------------------------------------------------------------


def postmaster_pid(cluster: Cluster) -> int:
    """The real postmaster: as root, cluster.postgres.process is only `runuser`."""
    return int((cluster.postgres.data / "postmaster.pid").read_text().split()[0])


def pause_postgres(cluster: Cluster, seconds: float = POSTGRES_PAUSE_S) -> None:
    """Freeze PostgreSQL (the tracker store, and the order store when it lives there) for a few
    seconds: the postmaster and every backend, since the servers' pooled connections talk to
    backends that stopping the postmaster alone leaves running."""
    pids = process_tree(postmaster_pid(cluster), read_processes())
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        for pid in reversed(pids):
            os.kill(pid, signal.SIGCONT)
        # As root the postmaster runs under `runuser`, which stops itself when its child
        # stops and waits to be continued: left stopped, it would never reap PostgreSQL.
        os.kill(cluster.postgres.process.pid, signal.SIGCONT)


def restart_redis(cluster: Cluster) -> None:
    cluster.redis.stop()
    time.sleep(1)
    cluster.redis.start()


def kill_action_server(cluster: Cluster, index: int = 0, restart: bool = True) -> None:
    """SIGKILL, as a crash would; nginx sends new calls to the other one meanwhile."""
    cluster.actions[index].kill()
    cluster.actions[index].wait()
    if restart:
        start_action_server_again(cluster, index)


def start_action_server_again(cluster: Cluster, index: int) -> None:
    port = cluster.action_ports[index]
    log = cluster.workdir / f"actions{index}-restarted.log"
    cluster.actions[index] = start_action_server(port, cluster.env, log)
    wait_for(f"http://127.0.0.1:{port}/health", cluster.actions[index], log)


def kill_rasa_server(cluster: Cluster, index: int = 1) -> None:
    """SIGKILL, as a crash would: the turns it was serving keep their lock tickets until it
    starts again under the same RASA_SERVER_ID and gives them back (addons/lock_store.py)."""
    cluster.rasa[index].kill()
    cluster.rasa[index].wait()
    cluster.start_rasa(index)
    cluster.wait_rasa(index)
