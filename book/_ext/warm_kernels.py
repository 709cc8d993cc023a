"""Chapter kernels that start warm: forked from a process that has already
imported what every chapter imports.

    python -m warm_kernels serve     (started by build.py for an HTML build)
    python -m warm_kernels launch -f CONNECTION_FILE   (the kernel's command)

Why. Every chapter runs in a new Python kernel, and before its first line runs
that kernel spends 2 to 4 s of CPU importing ipykernel, PyTorch, matplotlib and
``torch._dynamo`` (which the first ``torch.optim`` optimizer imports): on a
2-core machine, a good part of a cold build. Importing them once per build and
forking each kernel from that process removes the cost; the chapter's own code
runs as before, in a process of its own.

How, with Jupyter's documented interfaces only:

* Jupyter finds a kernel by its name in the kernel specs on ``JUPYTER_PATH``,
  the first folder first. ``build.py`` writes a spec named like the chapters'
  kernel, ``python3``, into ``_build/kernels`` (``write_spec``; it copies the
  installed spec and changes only the command) and puts that folder first on
  the ``JUPYTER_PATH`` of the Sphinx it starts. Nothing else changes: the
  notebooks, their cache keys and the kernel readers get name ``python3``.
* ``serve`` imports ``PRELOAD`` and waits on a Unix socket in a folder only
  its user can enter (``build.py`` makes it, passes the address to the kernels
  in ``INTRODL_KERNEL_SERVER``, and stops the server when Sphinx is done by
  closing its standard input; so the server also stops if ``build.py`` is
  killed).
* ``launch`` is the process Jupyter starts and watches. It sends the server its
  command line, working directory, environment and standard streams; the
  server forks, and the child becomes a kernel as ``python -m
  ipykernel_launcher`` would: the launcher's streams, folder and environment,
  the same ``sys.path`` and ``sys.argv``. The launcher passes on the signals
  Jupyter sends (an interrupt is SIGINT), and ends with the child's exit
  status, which the server reports. If the launcher is killed, the child sees
  a pipe from it close and exits.
* Anything missing (not Linux, no server, a refused connection) and the
  launcher becomes the ordinary kernel (``os.execv`` of ``python -m
  ipykernel_launcher``): a chapter always runs, only without the head start.

What forked kernels share, unlike fresh ones: the state the imports in
``PRELOAD`` left. Python's and NumPy's global random generators are seeded from
the operating system when they are imported, so forked kernels start with the
same unseeded state where fresh ones differ; the chapters seed what they use
(``introdl.seed_everything``). The book's own package is not preloaded: each
chapter imports it itself, from the folder being built.

Why not a library: Jupyter's kernel provisioners could do this, but one is
found only through an installed package's entry point, and the book's build
tools are not an installed package; no maintained package forks Jupyter
kernels from a preloaded process.
"""

import atexit
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
from pathlib import Path

#: This process: in a forked kernel, ``os.getpid()`` differs from it.
SERVER_PID = os.getpid()
#: The environment variable that gives the kernels the server's address.
ADDRESS_VARIABLE = "INTRODL_KERNEL_SERVER"
#: What every chapter's kernel imports, in this order (ipykernel first: what the
#: kernel itself needs; then what the chapters import).
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger",
           "ipykernel.zmqshell", "numpy", "torch", "torch.nn",
           "torch.optim", "torch._dynamo", "matplotlib", "matplotlib.pyplot")
#: What the server writes to its standard output once it listens.
READY = b"listening\n"
#: The signals Jupyter may send a kernel, passed on to the forked child.
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
             signal.SIGUSR1, signal.SIGUSR2)
#: What ipykernel sets when nothing else chose matplotlib's backend; it has to be
#: set before matplotlib is imported, which the server does.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def supported() -> bool:
    """Forking a preloaded process needs Linux's process file descriptors."""
    return sys.platform.startswith("linux") and hasattr(os, "pidfd_open")


def write_spec(folder: Path) -> Path:
    """Write the ``python3`` kernel spec whose command is ``launch`` into
    ``folder/kernels/python3`` (a folder to put first on ``JUPYTER_PATH``).
    Everything but the command is the installed spec's. Returns ``folder``."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3").to_dict()
    # "python" is the Python of whoever starts the kernel (Jupyter's rule), as in
    # the installed spec: here Sphinx's, the project's environment
    spec["argv"] = ["python", "-m", "warm_kernels", "launch",
                    "-f", "{connection_file}"]
    target = folder / "kernels" / "python3"
    target.mkdir(parents=True, exist_ok=True)
    (target / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return folder


# --- the launcher: the process Jupyter starts ------------------------------------

def ordinary_kernel(argv: list[str]):
    """Become ``python -m ipykernel_launcher ARGV`` (never returns)."""
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *argv])


def launch(argv: list[str]) -> int:
    """Have the server fork a kernel with ``argv``; wait for it and return its
    exit code (or die of the signal that killed it)."""
    address = os.environ.get(ADDRESS_VARIABLE)
    if not address or not supported():
        ordinary_kernel(argv)
    env = {k: v for k, v in os.environ.items() if k != ADDRESS_VARIABLE}
    request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": env}).encode()
    alive_r, alive_w = os.pipe()  # the child exits when this closes
    try:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        server.connect(address)
        socket.send_fds(server, [request], [0, 1, 2, alive_r])
        reply = server.recv(64).split()
        pid = int(reply[1])
    except (OSError, IndexError, ValueError):
        os.close(alive_r)
        os.close(alive_w)
        ordinary_kernel(argv)
    os.close(alive_r)

    def forward(signum, frame):
        os.kill(pid, signum)

    for signum in FORWARDED:
        signal.signal(signum, forward)
    reply = server.recv(64).split()
    if len(reply) != 2 or reply[0] != b"exit":  # the server is gone
        return 1
    code = os.waitstatus_to_exitcode(int(reply[1]))
    if code < 0:  # killed by a signal: end the same way, as Jupyter expects
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


# --- the server ---------------------------------------------------------------------

def preload() -> None:
    """Import PRELOAD as a kernel would, with the backend ipykernel would set."""
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    # the debugger ipykernel imports (debugpy) warns, when imported, that Python's
    # frozen modules may hide breakpoints: true of every kernel, and said to the
    # build's log once the server imports it; no kernel of the build debugs
    quiet = "PYDEVD_DISABLE_FILE_VALIDATION" not in os.environ
    if quiet:
        os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    if os.environ["MPLBACKEND"] == INLINE_BACKEND:
        del os.environ["MPLBACKEND"]  # the kernel's environment is the launcher's
    if quiet:
        del os.environ["PYDEVD_DISABLE_FILE_VALIDATION"]


def start_server(address: str, env: dict) -> subprocess.Popen:
    """Start ``python -m warm_kernels serve ADDRESS`` with ``env`` and return once
    it listens, so that no kernel started after this returns misses it (one that
    did would start cold). Stop it by closing its standard input."""
    server = subprocess.Popen([sys.executable, "-m", "warm_kernels", "serve", address],
                              env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              start_new_session=True)
    ready = server.stdout.read(len(READY))
    server.stdout.close()
    if ready != READY:
        server.stdin.close()
        code = server.wait()
        raise RuntimeError(f"the kernel server did not start (exit code {code})")
    return server


def serve(address: str):
    """Serve until standard input closes. Returns None in the server, and in each
    forked child the request it is to become (see ``become_kernel``)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(address)
    listener.listen(64)
    # a launcher that connects from now on waits in the queue until the imports
    # are done; say so to whoever started the server (``start_server``), then
    # standard output is standard error, so nothing else can reach that pipe
    os.write(1, READY)
    os.dup2(2, 1)
    try:
        preload()
    except Exception as error:  # the kernels import it themselves, as ever
        print(f"warm_kernels: preloading failed ({error!r}); kernels start cold",
              file=sys.stderr)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, ("accept",))
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, ("parent",))
    children = {}  # pid: (pidfd, connection to its launcher)
    try:
        while True:
            for key, _ in selector.select():
                kind = key.data[0]
                if kind == "parent":
                    if not os.read(key.fd, 4096):
                        return None
                elif kind == "accept":
                    connection, _ = listener.accept()
                    selector.register(connection, selectors.EVENT_READ,
                                      ("request", connection))
                elif kind == "request":
                    connection = key.data[1]
                    selector.unregister(connection)
                    try:
                        message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 4)
                    except OSError:
                        message, fds = b"", []
                    if not message or len(fds) != 4:
                        for fd in fds:
                            os.close(fd)
                        connection.close()
                        continue
                    pid = os.fork()
                    if pid == 0:  # the child: leave the server behind
                        selector.close()
                        listener.close()
                        for pidfd, other in children.values():
                            os.close(pidfd)
                            other.close()
                        connection.close()
                        return json.loads(message), fds
                    for fd in fds:
                        os.close(fd)
                    pidfd = os.pidfd_open(pid)
                    children[pid] = (pidfd, connection)
                    selector.register(pidfd, selectors.EVENT_READ, ("exit", pid))
                    try:
                        connection.send(b"pid %d" % pid)
                    except OSError:
                        os.kill(pid, signal.SIGKILL)
                elif kind == "exit":
                    pid = key.data[1]
                    _, status = os.waitpid(pid, 0)
                    pidfd, connection = children.pop(pid)
                    selector.unregister(pidfd)
                    os.close(pidfd)
                    try:
                        connection.send(b"exit %d" % status)
                    except OSError:
                        pass
                    connection.close()
    finally:
        if os.getpid() == SERVER_PID:
            for pid in children:  # no kernel outlives the build
                os.kill(pid, signal.SIGKILL)


def become_kernel(request: dict, fds: list[int]) -> None:
    """In a forked child: take the launcher's streams, folder and environment,
    and run ipykernel as ``python -m ipykernel_launcher`` does."""
    import threading

    stdin, stdout, stderr, alive = fds
    for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(fd, target)
        os.close(fd)

    def exit_with_launcher():
        os.read(alive, 1)  # the launcher never writes: this returns when it ends
        os._exit(1)

    threading.Thread(target=exit_with_launcher, daemon=True).start()
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [str(Path(sys.modules["ipykernel"].__file__).parent.parent
                    / "ipykernel_launcher.py"), *request["argv"]]
    if os.environ.get("JPY_PARENT_PID"):
        # ipykernel reads this variable when it is imported, which was in the
        # server: given again as the option it sets (the kernel then does not
        # print that it was started by hand, and watches its parent as ever)
        sys.argv.append(f"--IPKernelApp.parent_handle={os.environ['JPY_PARENT_PID']}")
    from ipykernel import kernelapp

    exit_code = 1  # unless ipykernel ends normally or says otherwise

    def end_here():
        """Exit without tearing down the modules the server imported (0.7 to 0.9
        s for PyTorch's, on every chapter; nothing of the chapter's is left to
        do by then). atexit runs the last registered first, so this runs after
        the handlers of the kernel and of the chapter, and skips only those the
        server's imports registered, as Python's multiprocessing does in the
        processes it forks."""
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        os._exit(exit_code)

    atexit.register(end_here)
    try:
        kernelapp.launch_new_instance()
        exit_code = 0
    except SystemExit as stop:
        code = stop.code
        exit_code = code if isinstance(code, int) else int(code is not None)
    sys.exit(exit_code)


def main(argv: list[str]) -> int:
    if argv[:1] == ["launch"]:
        return launch(argv[1:])
    if argv[:1] == ["serve"] and len(argv) == 2:
        # the server's folder is not the kernels': ipykernel_launcher takes it off
        # sys.path the same way (IPython puts the kernel's own folder back)
        if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
            del sys.path[0]
        forked = serve(argv[1])
        if forked is not None:
            become_kernel(*forked)
        # the server is done (its children are gone): exit without tearing down
        # what it preloaded (about 1 s for PyTorch's modules, which the build
        # would wait for)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
