"""A real, throw-away PostgreSQL server for the test session.

:class:`PostgresServer` finds the PostgreSQL binaries, runs ``initdb`` into a
fresh temporary folder, starts the server on a free loopback port and removes
everything again on :meth:`~PostgresServer.stop`. The superuser is
``modelgate`` with ``trust`` authentication (loopback only), so URLs carry no
password: ``postgresql+psycopg://modelgate@127.0.0.1:PORT/DBNAME``.

``initdb`` refuses to run as root; when the tests run as root (CI containers)
the binaries run as the ``postgres`` system user, which owns the folder.
Durability is switched off (``fsync``, ``synchronous_commit``,
``full_page_writes``): the data is thrown away after the session.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

#: What to run on Debian/Ubuntu when the server is missing.
INSTALL_COMMAND = "apt-get install -y postgresql"
SUPERUSER = "modelgate"
#: The group role of application logins (modelgate.core.registry.pgwrites.APP_ROLE).
APP_ROLE = "modelgate_app"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresNotInstalled(RuntimeError):
    """No PostgreSQL server binaries (initdb, pg_ctl) on this machine."""


def find_bindir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``.

    ``pg_config --bindir`` first (it may belong to the client library only, so
    the folder must really hold ``initdb``), then the highest
    ``/usr/lib/postgresql/*/bin``, then ``initdb`` on PATH.
    """
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip():
            candidates.append(Path(done.stdout.strip()))

    def major(path: str) -> tuple[int, ...]:
        version = Path(path).parent.name
        return tuple(int(p) for p in re.findall(r"\d+", version)) or (0,)

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=major, reverse=True)]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresNotInstalled(
        "PostgreSQL is not installed: the registry tests need a real PostgreSQL server "
        "(initdb and pg_ctl were not found via pg_config, /usr/lib/postgresql/*/bin or PATH). "
        f"Install it with `{INSTALL_COMMAND}` (as root, or with sudo), "
        "or run `packaging/system-deps.sh ensure test`.")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _check_name(name: str, what: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"{what} {name!r} must be lower-case letters, digits and '_' (at most 63)")
    return name


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder; use as a context manager or start()/stop()."""

    def __init__(self, *, bindir: Path | None = None, base: Path | None = None) -> None:
        self.bindir = Path(bindir) if bindir else find_bindir()
        self.host = "127.0.0.1"
        self.port: int | None = None
        self.folder: Path | None = None
        self._base = base
        self._as_user: str | None = "postgres" if os.geteuid() == 0 else None

    # ----------------------------------------------------------------- paths
    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def log_path(self) -> Path:
        return self.folder / "server.log"

    def _temp_base(self) -> str:
        if self._base is not None:
            return str(self._base)
        base = tempfile.gettempdir()
        if self._as_user and not _traversable_by_all(Path(base)):
            base = "/tmp"  # the postgres user must be able to reach the folder
        return base

    # ------------------------------------------------------------- commands
    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bindir / tool), *args]
        if self._as_user:
            command = ["runuser", "-u", self._as_user, "--", *command]
        env = dict(os.environ, LC_ALL="C", LANG="C")
        done = subprocess.run(command, cwd=self.folder, env=env, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise RuntimeError(f"{tool} failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
                               f"{self._log_tail()}")
        return done

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()[-20:]
        except OSError:
            return ""
        return "\nserver log:\n" + "\n".join(lines) if lines else ""

    # ------------------------------------------------------------- lifecycle
    def start(self) -> PostgresServer:
        """initdb into a fresh folder and start the server; returns self."""
        if self._as_user:
            try:
                account = pwd.getpwnam(self._as_user)
            except KeyError:
                raise PostgresNotInstalled(
                    f"running as root, but there is no `{self._as_user}` system user to run PostgreSQL as "
                    f"(initdb refuses root). Install the server package: `{INSTALL_COMMAND}`.") from None
        self.folder = Path(tempfile.mkdtemp(prefix="mg-pg-", dir=self._temp_base()))
        try:
            if self._as_user:
                os.chown(self.folder, account.pw_uid, account.pw_gid)
            self._run("initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust",
                      "-E", "UTF8", "--no-locale", "--no-sync")
            self._start_on_free_port()
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
            raise
        return self

    def _start_on_free_port(self) -> None:
        last = None
        for _attempt in range(5):
            port = free_port()
            options = (f"-c listen_addresses={self.host} -p {port} -k {self.folder} "
                       "-c max_connections=100 -c fsync=off -c synchronous_commit=off "
                       "-c full_page_writes=off")
            done = self._run("pg_ctl", "-D", str(self.data_dir), "-o", options,
                             "-l", str(self.log_path), "-w", "-t", "60", "start", check=False)
            if done.returncode == 0:
                self.port = port
                return
            last = f"{done.stdout}\n{done.stderr}{self._log_tail()}"
            time.sleep(0.2)  # probably lost the port to someone else: try another
        raise RuntimeError(f"pg_ctl could not start PostgreSQL:\n{last}")

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder."""
        if self.folder is None:
            return
        try:
            if self.port is not None:
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop", check=False)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
            self.port = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -------------------------------------------------------------- helpers
    def url_for(self, db: str = "postgres", user: str = SUPERUSER) -> str:
        """SQLAlchemy URL of database ``db`` as login ``user`` (no password: trust)."""
        return f"postgresql+psycopg://{user}@{self.host}:{self.port}/{db}"

    def url(self, db: str = "postgres") -> str:
        """SQLAlchemy URL of database ``db`` as the superuser ``modelgate``."""
        return self.url_for(db, SUPERUSER)

    def connect(self, db: str = "postgres", user: str = SUPERUSER):
        """A psycopg connection in autocommit mode (close it yourself)."""
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, user=user, dbname=db, autocommit=True)

    def create_database(self, name: str) -> str:
        """Create an empty database owned by ``modelgate``; return its SQLAlchemy URL."""
        from psycopg import sql

        _check_name(name, "database name")
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def create_role(self, name: str, *, database: str) -> str:
        """Create login ``name`` (if new) as a member of the registry's group role; return its URL.

        This is the setup the README describes for a team: the login may connect to
        ``database`` and is a member of ``modelgate_app``, which the registry's migrations
        grant SELECT on the tables and EXECUTE on the guarded write functions, nothing
        more. Roles are cluster-wide; the group is created here if no registry made it yet.
        """
        from psycopg import sql

        _check_name(name, "role name")
        _check_name(database, "database name")
        role, db = sql.Identifier(name), sql.Identifier(database)
        group = sql.Identifier(APP_ROLE)
        with self.connect() as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone():
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(group))
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, role))
            conn.execute(sql.SQL("GRANT {} TO {}").format(group, role))
        return self.url_for(database, name)


def _traversable_by_all(path: Path) -> bool:
    """True when every folder from / down to ``path`` lets others pass (o+x)."""
    path = path.resolve()
    for folder in [path, *path.parents]:
        try:
            if not folder.stat().st_mode & 0o001:
                return False
        except OSError:
            return False
    return True
