"""Warm kernels (book/_ext/warm_kernels.py): chapter kernels forked from a server
that has imported PyTorch and the rest. They must behave as the ordinary kernel
does: same outputs, interrupts, exit status, and no kernel left behind."""

import os
import socket
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT / "book" / "_ext"
sys.path.insert(0, str(EXT))

import warm_kernels  # noqa: E402

pytestmark = pytest.mark.skipif(not warm_kernels.supported(),
                                reason="forking kernels needs Linux")


def python_path() -> str:
    return os.pathsep.join([str(EXT), str(ROOT / "code"),
                            *filter(None, [os.environ.get("PYTHONPATH")])])


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A server, and this process set up to start kernels through it."""
    address = str(tmp_path / "server")
    env = dict(os.environ, PYTHONPATH=python_path())
    process = warm_kernels.start_server(address, env)
    specs = warm_kernels.write_spec(tmp_path / "specs")
    monkeypatch.setenv("PYTHONPATH", python_path())
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(
        [str(specs), *filter(None, [os.environ.get("JUPYTER_PATH")])]))
    monkeypatch.setenv(warm_kernels.ADDRESS_VARIABLE, address)
    yield process
    process.stdin.close()
    assert process.wait(timeout=30) == 0


def test_the_server_listens_once_started(server, tmp_path):
    # at once, without waiting: a kernel started now must reach the server (one
    # that came too early used to start cold, as a plain Popen returns at once)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    probe.connect(str(tmp_path / "server"))
    probe.close()


def test_a_server_that_cannot_listen_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="did not start"):
        warm_kernels.start_server(str(tmp_path / "no such folder" / "server"),
                                  dict(os.environ, PYTHONPATH=python_path()))


def run(cells: list[str], cwd: Path, **options) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    options = {"timeout": 60, **options}
    NotebookClient(nb, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}, **options).execute()
    return nb


def outputs(nb) -> list:
    return [[{k: v for k, v in o.items() if k != "execution_count"} for o in c.outputs]
            for c in nb.cells]


CHAPTER_LIKE = [
    "import os, sys\nprint(os.getcwd(), sys.path[0] == '', sys.argv[1:2])",
    "import torch\ntorch.manual_seed(0)\nprint(torch.randn(3))",
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(2, 2))\n"
    "ax.plot([0, 1], [1, 0]);",
    "os.environ.get('INTRODL_PROBE'), os.environ.get('MPLBACKEND')",
]


def test_a_warm_kernel_gives_the_outputs_of_an_ordinary_one(server, tmp_path,
                                                            monkeypatch):
    monkeypatch.setenv("INTRODL_PROBE", "from the client")
    warm = run(CHAPTER_LIKE + ["'torch' in sys.modules, os.getppid()"], tmp_path)
    monkeypatch.delenv(warm_kernels.ADDRESS_VARIABLE)  # the launcher runs ipykernel
    cold = run(CHAPTER_LIKE + ["'torch' in sys.modules, os.getppid()"], tmp_path)
    assert outputs(warm)[:-1] == outputs(cold)[:-1]
    # the folder, the environment and the inline figure reached the kernel
    assert str(tmp_path) in outputs(warm)[0][0]["text"]
    assert "image/png" in outputs(warm)[2][-1]["data"]
    assert "from the client" in outputs(warm)[3][0]["data"]["text/plain"]
    # the warm one was forked by the server, with PyTorch already there
    assert outputs(warm)[-1][0]["data"]["text/plain"] == f"(True, {server.pid})"
    assert outputs(cold)[-1][0]["data"]["text/plain"] != f"(True, {server.pid})"


def test_an_interrupt_reaches_the_forked_kernel(server, tmp_path):
    start = time.monotonic()
    nb = run(["import time\ntime.sleep(60)", "'still alive'"], tmp_path, timeout=3,
             interrupt_on_timeout=True, allow_errors=True)
    assert time.monotonic() - start < 30
    assert nb.cells[0].outputs[-1]["ename"] == "KeyboardInterrupt"
    assert nb.cells[1].outputs[0]["data"]["text/plain"] == "'still alive'"


def kernel_pid(client) -> int:
    reply = client.execute_interactive(
        "import os", user_expressions={"pid": "os.getpid()"}, timeout=30)
    return int(reply["content"]["user_expressions"]["pid"]["data"]["text/plain"])


def start(tmp_path):
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client


def test_the_exit_status_of_the_kernel_is_the_launchers(server, tmp_path):
    manager, client = start(tmp_path)
    client.execute("import os; os._exit(3)")
    assert manager.provisioner.process.wait(timeout=30) == 3
    client.stop_channels()
    manager.cleanup_resources()


def test_no_kernel_outlives_a_killed_launcher(server, tmp_path):
    manager, client = start(tmp_path)
    pid = kernel_pid(client)
    assert pid != manager.provisioner.process.pid  # the forked child
    manager.shutdown_kernel(now=True)  # SIGKILL: the launcher cannot pass it on
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists()
    client.stop_channels()
    manager.cleanup_resources()


def test_without_a_server_the_kernel_is_the_ordinary_one(tmp_path, monkeypatch):
    specs = warm_kernels.write_spec(tmp_path / "specs")
    monkeypatch.setenv("PYTHONPATH", python_path())
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(
        [str(specs), *filter(None, [os.environ.get("JUPYTER_PATH")])]))
    monkeypatch.setenv(warm_kernels.ADDRESS_VARIABLE, str(tmp_path / "nobody-listens"))
    nb = run(["import sys\n'torch' in sys.modules", "6 * 7"], tmp_path)
    assert outputs(nb)[0][0]["data"]["text/plain"] == "False"
    assert outputs(nb)[1][0]["data"]["text/plain"] == "42"


def test_the_spec_differs_from_the_installed_one_only_in_its_command(tmp_path):
    import json

    from jupyter_client.kernelspec import KernelSpecManager

    installed = KernelSpecManager().get_kernel_spec("python3").to_dict()
    written = json.loads((warm_kernels.write_spec(tmp_path) / "kernels" / "python3"
                          / "kernel.json").read_text())
    assert written["argv"][:4] == ["python", "-m", "warm_kernels", "launch"]
    assert {k: v for k, v in written.items() if k != "argv"} == \
        {k: v for k, v in installed.items() if k != "argv"}
