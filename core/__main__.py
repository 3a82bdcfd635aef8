"""``python -m core``: the headless CLI."""
import atexit
import os
import sys

#: commands that only run inference: short parallel regions, where OpenMP threads spinning while they wait
#: cost most when other processes share the cores. Measured on the shared 2-core machine (load 7-9), the
#: issue's `sample builtin:points` with the small networks: 15-21 s wall (13-18 s CPU) spinning, 4.2-6.4 s
#: with passive waiting. Set before torch loads (the handlers import it); an explicit setting wins.
PASSIVE_WAIT_COMMANDS = ("sample", "demo")
if len(sys.argv) > 1 and sys.argv[1] in PASSIVE_WAIT_COMMANDS:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from core.cli import main  # noqa: E402

code = main()
# Exit without the interpreter's teardown of torch's thousand modules: measured 0.4 s of CPU and about 1 s of
# wall time per command on the 2-core machines. Exit handlers still run and output is flushed, as on a normal exit.
atexit._run_exitfuncs()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
