"""Starts the built `infer serve` for the server checks, on a free loopback port."""

import os
import re
import signal
import subprocess
import sys
import threading
import time

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("INFER_SHARED") or os.path.join(os.path.dirname(REPOSITORY), "shared")
MODEL = os.path.join(SHARED, "models", "stories260K.gguf")
INFER = os.environ.get("INFER_BINARY") or os.path.join(REPOSITORY, ".build", "debug", "infer")
# Real pretrained models (../shared/tools/fetch-models.sh puts them here).
MODELS = os.environ.get("INFER_MODELS") or "/tmp/infer-models"


class Server:
    """`with Server(args) as server:` runs `infer serve MODEL --port 0 args...` until the block
    ends, then stops it with SIGTERM and checks that it exits 0 within `stop_timeout` seconds."""

    def __init__(self, *args, model=MODEL, stop_timeout=30):
        self.model = model
        self.args = list(args)
        self.stop_timeout = stop_timeout
        self.stderr = []
        self.exit_status = None

    def __enter__(self):
        if getattr(self, "port", None):
            return self  # started already (real_model_server)
        self.process = subprocess.Popen([INFER, "serve", self.model, "--port", "0", *self.args],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        listening = threading.Event()

        def read_stderr():
            for line in self.process.stderr:
                self.stderr.append(line)
                match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
                if match:
                    self.port = int(match.group(1))
                    listening.set()

        threading.Thread(target=read_stderr, daemon=True).start()
        if not listening.wait(120):
            self.process.kill()
            self.process.wait()
            raise RuntimeError("infer serve did not start: " + "".join(self.stderr))
        self.base_url = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, kind, value, traceback):
        if self.process.poll() is not None:
            # It ended before it was told to (a crash, a sanitizer's report): say how.
            sys.stderr.write(f"infer serve ended by itself with status {self.process.returncode}:\n"
                             + "".join(self.stderr[-200:]))
        self.process.send_signal(signal.SIGTERM)
        try:
            self.exit_status = self.process.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise RuntimeError(f"infer serve did not stop within {self.stop_timeout} s of SIGTERM")
        if kind is None and self.exit_status != 0:
            raise RuntimeError(f"infer serve exited {self.exit_status} after SIGTERM: " + "".join(self.stderr))
        return False

    def rss_kib(self):
        """Resident memory of the server process, in KiB."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS in /proc status")


def real_model_server(names, *args):
    """A started `Server` for the first of the model files `names` (in MODELS) that exists and
    that infer runs (Qwen2.5-Coder needs its architecture); None when there is none. Use it
    in a `with` block, which stops it."""
    for name in names:
        path = os.path.join(MODELS, name)
        if not os.path.exists(path):
            continue
        server = Server(*args, model=path)
        try:
            server.__enter__()
            return server
        except RuntimeError as error:
            print(f"      {name} does not run here: {str(error).splitlines()[-1] if str(error) else error}")
    return None


class Checks:
    """Counts named checks and prints each; `summary()` prints the closing line CI reads."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, condition, detail=""):
        if condition:
            self.passed += 1
            print(f"ok    {name}")
        else:
            self.failed += 1
            print(f"FAIL  {name} {detail}")

    def summary(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 0 if self.failed == 0 else 1


def wait_until(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
