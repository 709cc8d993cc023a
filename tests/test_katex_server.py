"""The KaTeX render server is started robustly (book/_ext/introdl_speed.py).

A server that has bound its socket but does not listen yet refuses connections; the
library's own start gave up at once, and a parallel build stopped. These tests start
a stand-in server, a few lines of Python, so they need neither Node nor a build.
"""

import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from introdl_speed import _start_server_process  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")

SLOW_LISTENER = textwrap.dedent("""
    import socket, sys, time
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(sys.argv[1])   # the socket file exists from here on ...
    time.sleep(0.5)       # ... but connections are refused until
    s.listen(1)           # the server listens
    conn, _ = s.accept()
    conn.sendall(b"ok")
    time.sleep(5)
""")


class StandIn:
    """What ``_start_server_process`` uses of ``KaTeXServer``."""

    script = SLOW_LISTENER

    @classmethod
    def build_command(cls, socket):
        return [sys.executable, "-c", cls.script, str(socket)]

    @classmethod
    def timeout_error(cls, timeout):
        return TimeoutError(f"no server after {timeout} s")


def test_a_server_that_listens_late_is_waited_for(tmp_path):
    process, sock = _start_server_process(StandIn, tmp_path, timeout=10)
    try:
        assert sock.recv(2) == b"ok"
    finally:
        sock.close()
        process.kill()
        process.communicate()


def test_a_server_that_never_comes_up_is_stopped_and_reported(tmp_path):
    class Silent(StandIn):
        script = "import time; time.sleep(30)"

    with pytest.raises(TimeoutError, match="no server after 0.5 s"):
        _start_server_process(Silent, tmp_path, timeout=0.5)


def test_a_server_that_dies_is_reported_at_once(tmp_path):
    class Dying(StandIn):
        script = "raise SystemExit(1)"

    with pytest.raises(TimeoutError):
        _start_server_process(Dying, tmp_path, timeout=30)


def test_each_process_gets_a_lazy_server_of_its_own():
    from introdl_speed import _KaTeXServerPerProcess, _LazyKaTeXServer
    from sphinxcontrib.katex import KaTeXServer

    before = KaTeXServer.katex_server
    try:
        _KaTeXServerPerProcess.install()
        server = KaTeXServer.get()  # what the library's renderer asks for
        assert isinstance(server, _LazyKaTeXServer) and server.server is None
        _KaTeXServerPerProcess.after_fork(None)  # as in a forked writer
        assert KaTeXServer.get() is not server  # a new one, not the parent's
        _KaTeXServerPerProcess.uninstall()
        assert KaTeXServer.katex_server is None
    finally:
        KaTeXServer.katex_server = before
