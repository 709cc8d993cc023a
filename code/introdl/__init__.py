"""introdl: the tested code behind *An Executable Introduction to Deep Learning*.

Every function a chapter shows lives here, one module per topic, and is
checked against PyTorch's built-ins in ``tests/``. Import the modules you
need, for example ``from introdl.activations import sigmoid``.
"""

__version__ = "0.2.0"
