"""PostgreSQL, Redis and nginx from Debian's packages, started on loopback for the tests.

Installs the packages when they are missing (as root, with apt-get), then runs each server
from a temporary folder on a free port; nothing touches the system's own instances.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.support.stack import ROOT, free_port

PACKAGES = {"postgresql": "pg_ctlcluster", "redis-server": "redis-server", "nginx": "nginx"}


def ensure_packages(packages: tuple[str, ...] = tuple(PACKAGES)) -> None:
    """Install the missing ones as root; otherwise fail (never skip: the tests would not run)."""
    commands = {package: PACKAGES[package] for package in packages}
    missing = [package for package, command in commands.items() if not shutil.which(command) and not _exists(command)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise RuntimeError(f"missing packages {missing}: sudo apt-get install {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env, stdout=subprocess.DEVNULL)


def _exists(command: str) -> bool:
    return Path("/usr/sbin", command).exists() or Path("/usr/bin", command).exists()


def postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"{name} not found under /usr/lib/postgresql")
    return found[-1]


def as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def wait_port(port: int, process: subprocess.Popen | None = None, timeout: float = 60) -> None:
    import socket

    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for port {port} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port}")


class Postgres:
    def __init__(self, workdir: Path, settings: dict[str, str] | None = None) -> None:
        """`settings`: more ``-c name=value`` for the server (e.g. fsync=off for unit tests)."""
        self.port = free_port()
        self.settings = settings or {}
        # Its own folder under /tmp: the postgres user cannot enter pytest's private tmp.
        self.root = Path(tempfile.mkdtemp(prefix="order-assistant-pg-"))
        self.data, self.sockets = self.root / "data", self.root / "sockets"
        self.log = workdir / "postgres.log"
        workdir.mkdir(parents=True, exist_ok=True)
        for path in (self.data, self.sockets):
            path.mkdir()
        if os.geteuid() == 0:
            for path in (self.root, self.data, self.sockets):
                shutil.chown(path, "postgres")
        subprocess.run(
            as_postgres([postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.start()
        subprocess.run(
            [postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "rasa"], check=True
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            as_postgres(
                [postgres_bin("postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.sockets),
                 "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=100",
                 *(arg for name, value in self.settings.items() for arg in ("-c", f"{name}={value}"))]
            ),
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_port(self.port, self.process)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg2

        with psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="rasa") as conn:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def admin(self, sql: str, params: tuple = ()) -> list[tuple]:
        """A statement outside any transaction (CREATE DATABASE must be), as the superuser."""
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            conn.close()

    def admin_in(self, database: str, sql: str, params: tuple = ()) -> list[tuple]:
        """A query in one database, as the superuser."""
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            conn.close()

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A new, empty database; its name."""
        name = f"test_{uuid.uuid4().hex[:16]}"
        self.admin(f"create database {name}")
        return name

    def drop_database(self, name: str) -> None:
        """Gone, with any connection still open to it."""
        self.admin(f"drop database if exists {name} with (force)")


class Redis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=(self.workdir / "redis.log").open("a"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_port(self.port, self.process)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class Nginx:
    """The shipped deploy/nginx.conf.template, rendered for these ports."""

    def __init__(self, workdir: Path, rasa_ports: list[int], action_ports: list[int]) -> None:
        self.port, self.actions_port = free_port(), free_port()
        # Its own folder under /tmp, readable by the worker user (not pytest's private tmp).
        prefix = Path(tempfile.mkdtemp(prefix="order-assistant-nginx-"))
        prefix.chmod(0o755)
        self.prefix = prefix
        values = {
            "PREFIX": str(prefix),
            "LISTEN_PORT": str(self.port),
            "ACTIONS_LISTEN_PORT": str(self.actions_port),
            "RASA_UPSTREAMS": " ".join(f"server 127.0.0.1:{p};" for p in rasa_ports),
            "ACTION_UPSTREAMS": " ".join(f"server 127.0.0.1:{p};" for p in action_ports),
            # The tests stand where a CDN or ingress would: X-Forwarded-For names the buyer.
            "TRUSTED_PROXIES": "set_real_ip_from 127.0.0.1;",
        }
        config = (ROOT / "deploy" / "nginx.conf.template").read_text()
        for name, value in values.items():
            config = config.replace("${" + name + "}", value)
        self.config = prefix / "nginx.conf"
        self.config.write_text(config)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        subprocess.run([nginx, "-t", "-q", "-p", str(prefix), "-c", str(self.config)], check=True)
        self.process = subprocess.Popen(
            [nginx, "-p", str(prefix), "-c", str(self.config), "-g", "daemon off;"],
            stdout=(prefix / "stdout.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        wait_port(self.port, self.process)
        wait_port(self.actions_port, self.process)
        self.url = f"http://127.0.0.1:{self.port}"
        self.actions_url = f"http://127.0.0.1:{self.actions_port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        shutil.rmtree(self.prefix, ignore_errors=True)
