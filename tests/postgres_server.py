"""A real PostgreSQL server for tests and benchmarks: initdb in a temporary directory, 127.0.0.1 on a free port.

The server binaries are Debian's (package ``postgresql``: ``/usr/lib/postgresql/<version>/bin``) or
whichever ``initdb`` and ``pg_ctl`` are on PATH. initdb refuses to run as root, so as root the server
runs as the ``postgres`` user (made by the Debian package) or ``nobody``, its directory given to that
user. Connections use password authentication (scram-sha-256) over TCP, the password from
``PGPASSFILE`` or ``PGPASSWORD`` as an operator's would be.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER = "zksolvency"


def server_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl (the newest Debian version first), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0, reverse=True)
    for initdb in found:
        if (initdb.parent / "pg_ctl").exists():
            return initdb.parent
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One server in its own directory; ``start()`` then ``stop()`` (which removes the directory)."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.password = secrets.token_hex(16)
        self.port = None
        self.dir = None

    def _run_as(self) -> tuple:
        """(command prefix, uid, gid) to run the server with: unprivileged when we are root."""
        if os.geteuid() != 0:
            return (), None, None
        for name in ("postgres", "nobody"):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            return ("runuser", "-u", name, "--"), entry.pw_uid, entry.pw_gid
        raise RuntimeError("running as root with neither a postgres nor a nobody user for the server")

    def _run(self, *args, check=True):
        prefix, _, _ = self._run_as()
        return subprocess.run([*prefix, *map(str, args)], capture_output=True, text=True, check=check,
                              cwd=self.dir, timeout=180)

    def start(self, settings: dict | None = None) -> PostgresServer:
        self.dir = Path(tempfile.mkdtemp(prefix="zksolvency-pg-", dir="/tmp" if os.geteuid() == 0 else None))
        _, uid, gid = self._run_as()
        (self.dir / "pw").write_text(self.password + "\n")
        self.passfile = self.dir / "pgpass"
        if uid is not None:
            os.chown(self.dir, uid, gid)
            os.chown(self.dir / "pw", uid, gid)
        data = self.dir / "data"
        self._run(self.bindir / "initdb", "-D", data, "-U", USER, "--pwfile", self.dir / "pw", "-E", "UTF8",
                  "--no-locale", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync")
        options = {"listen_addresses": "127.0.0.1", "unix_socket_directories": str(self.dir), "fsync": "off",
                   "synchronous_commit": "off", "full_page_writes": "off", **(settings or {})}
        for attempt in range(5):
            self.port = _free_port()
            flags = " ".join(f"-c {k}={v}" for k, v in {**options, "port": self.port}.items())
            started = self._run(self.bindir / "pg_ctl", "-D", data, "-l", self.dir / "log", "-w", "-t", "60",
                                "-o", flags, "start", check=False)
            if started.returncode == 0:
                break
        else:
            log = (self.dir / "log").read_text(errors="replace")[-2000:] if (self.dir / "log").exists() else ""
            self.stop()
            raise RuntimeError(f"the test PostgreSQL server did not start: {started.stderr[-1000:]} {log}")
        # The operator's way of giving a password: a .pgpass file (mode 0600), named by PGPASSFILE.
        self.passfile.write_text(f"127.0.0.1:{self.port}:*:{USER}:{self.password}\n")
        self.passfile.chmod(0o600)
        return self

    def stop(self) -> None:
        if self.dir is None:
            return
        if (self.dir / "data" / "postmaster.pid").exists():
            self._run(self.bindir / "pg_ctl", "-D", self.dir / "data", "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def url(self, database: str = "postgres") -> str:
        """The ledger URL, without a password (zksolvency refuses one there)."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres", autocommit: bool = True):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname=database,
                               password=self.password, autocommit=autocommit)

    def create_database(self, name: str) -> str:
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
