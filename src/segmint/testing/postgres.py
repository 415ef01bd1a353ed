"""A throw-away PostgreSQL server on 127.0.0.1, started from the installed binaries.

Used by the test suite's fixtures and by the benchmarks.  ``throwaway_postgres()``
runs ``initdb`` in a directory (a temporary one, removed afterwards, or
``data_dir``, kept and reused by the next call), starts the server on a free
loopback port with durability off (``fsync``, ``synchronous_commit`` and
``full_page_writes``: the data is thrown away or rebuilt, never trusted) and
yields the URL of its ``postgres`` database.  PostgreSQL refuses to run as
root, so as root the server runs as the ``postgres`` user (``runuser``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """The server cannot be started here: its binaries, or a user to run it as, are missing."""


def postgres_bin() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent

    def version(path: str) -> int:
        number = Path(path).parts[-3]
        return int(number) if number.isdigit() else 0

    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True):
        if Path(candidate).with_name("pg_ctl").exists():
            return Path(candidate).parent
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on (now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stdout}\n{done.stderr}")


def _server_user_ids() -> tuple[int, int] | None:
    """The uid and gid the server runs as when we are root (None when we are not)."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(
            "running as root and there is no 'postgres' user to run the PostgreSQL server as"
        ) from None
    if shutil.which("runuser") is None:
        raise PostgresUnavailable("running as root and runuser (util-linux) is missing to start PostgreSQL")
    return user.pw_uid, user.pw_gid


def _initdb(bindir: Path, data: Path) -> None:
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync"]
    # An ICU collation that does not sort like bytes where the server has ICU: the tests then show
    # that ids are ordered the same way (by code point) on every engine.
    locales = (
        ["--locale=C.UTF-8", "--locale-provider=icu", "--icu-locale=en-US"],  # PostgreSQL 15+
        ["--locale=C.UTF-8"],
        ["--locale=C"],
    )
    for number, locale in enumerate(locales, 1):
        try:
            _run(_as_server_user([*initdb, *locale]), "initdb")
            return
        except RuntimeError:
            shutil.rmtree(data, ignore_errors=True)
            if number == len(locales):
                raise


@contextlib.contextmanager
def throwaway_postgres(data_dir: Path | None = None, *, settings: dict[str, str] | None = None) -> Iterator[str]:
    """Start a server; yield the URL of its ``postgres`` database; stop it (and remove a temporary directory).

    ``settings`` are server settings (``-c name=value``) on top of the defaults, e.g. ``shared_buffers``.
    """
    bindir = postgres_bin()
    if bindir is None:
        raise PostgresUnavailable("PostgreSQL server not installed: apt-get install postgresql")
    ids = _server_user_ids()
    # Not pytest's tmp_path: its directories are private to root and the server runs as 'postgres'.
    # Absolute: the server runs in its data directory, where a relative socket directory does not exist.
    root = Path(data_dir).resolve() if data_dir is not None else Path(tempfile.mkdtemp(prefix="segmint-pg-"))
    root.mkdir(parents=True, exist_ok=True)
    data, log = root / "data", root / "server.log"
    try:
        if ids is not None:
            os.chown(root, *ids)
        if not (data / "PG_VERSION").exists():
            shutil.rmtree(data, ignore_errors=True)
            _initdb(bindir, data)
        port = free_port()
        given = {"max_connections": "50", "shared_buffers": "32MB"} | (settings or {})
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off " + " ".join(f"-c {name}={value}" for name, value in given.items())
        )
        start = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"]
        try:
            _run(_as_server_user(start), "pg_ctl start")
        except RuntimeError as exc:
            server_log = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{exc}\nserver log:\n{server_log}") from None
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            # A kept directory is stopped cleanly (its data survives); a temporary one just goes.
            mode = "fast" if data_dir is not None else "immediate"
            subprocess.run(
                _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", mode, "-w", "stop"]),
                capture_output=True,
                check=False,
            )
    finally:
        if data_dir is None:
            shutil.rmtree(root, ignore_errors=True)
