"""A real language server running flake8: python-lsp-server (pylsp) over stdio, with its flake8 plugin
on and its own pycodestyle/pyflakes/mccabe linters off (the settings the README shows). We open a
document and wait for ``textDocument/publishDiagnostics`` carrying the DDP finding at the right range."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Empty, Queue
from typing import Any, Dict, List, Optional

import pytest

from .test_flake8_e2e import MODEL

pytest.importorskip("pylsp")

# The "pylsp" block of the README's editor section (pylsp settings, as a client sends them).
PYLSP_SETTINGS: Dict[str, Any] = {
    "pylsp": {
        "configurationSources": ["flake8"],
        "plugins": {
            "flake8": {"enabled": True, "extendSelect": ["DDP901"]},
            "pycodestyle": {"enabled": False},
            "pyflakes": {"enabled": False},
            "mccabe": {"enabled": False},
            "pydocstyle": {"enabled": False},
            "pylint": {"enabled": False},
        },
    },
}


def _path(cwd: Path) -> str:
    """pylsp runs the `flake8` found on PATH: make it this interpreter's, which has the plugin installed
    (a `flake8` on PATH may belong to another environment)."""
    bin_dir = cwd / ".bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "flake8"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m flake8 "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    return os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])


class LspClient:
    def __init__(self, cwd: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "pylsp"], cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=dict(os.environ, PYTHONUNBUFFERED="1", PATH=_path(cwd)))
        self.messages: "Queue[Dict[str, Any]]" = Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            headers: Dict[str, str] = {}
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                key, _, value = line.decode("ascii").partition(":")
                headers[key.strip().lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
            self.messages.put(json.loads(body))

    def send(self, method: str, params: Any, request: bool = False) -> Optional[int]:
        message: Dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        body = json.dumps(message).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return message.get("id")

    def wait_for(self, predicate: Any, timeout: float = 60) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no matching message from pylsp")
            try:
                message = self.messages.get(timeout=remaining)
            except Empty:
                continue
            if predicate(message):
                return message

    def close(self) -> None:
        try:
            request = self.send("shutdown", None, request=True)
            self.wait_for(lambda m: m.get("id") == request, timeout=10)
            self.send("exit", None)
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - the test result matters, not a clean shutdown
            self.proc.kill()
            self.proc.wait(timeout=10)


def test_pylsp_publishes_ddp_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(MODEL, encoding="utf-8")
    uri = path.as_uri()
    client = LspClient(tmp_path)
    try:
        request = client.send("initialize", {"processId": os.getpid(), "rootUri": tmp_path.as_uri(),
                                             "capabilities": {}, "initializationOptions": {}}, request=True)
        client.wait_for(lambda m: m.get("id") == request)
        client.send("initialized", {})
        client.send("workspace/didChangeConfiguration", {"settings": PYLSP_SETTINGS})
        document = {"uri": uri, "languageId": "python", "version": 1, "text": MODEL}
        client.send("textDocument/didOpen", {"textDocument": document})

        def ddp_diagnostics(message: Dict[str, Any]) -> bool:
            return (message.get("method") == "textDocument/publishDiagnostics"
                    and message["params"]["uri"] == uri
                    and any(str(d.get("code", "")).startswith("DDP")
                            for d in message["params"]["diagnostics"]))

        diagnostics: List[Dict[str, Any]] = client.wait_for(ddp_diagnostics)["params"]["diagnostics"]
    finally:
        client.close()
    found = {d["code"]: d for d in diagnostics}
    assert set(found) == {"DDP001", "DDP901"}, diagnostics  # only flake8 runs; extendSelect reached flake8
    pooler = found["DDP001"]
    assert pooler["source"] == "flake8"
    assert pooler["message"].startswith("DDP001 self.pooler in Net gets no gradient: unused in forward()")
    # LSP positions are 0-based: line 8, column 9 as flake8 prints it, is line 7, character 8 (at `self`)
    assert pooler["range"]["start"] == {"line": 7, "character": 8}
    assert pooler["range"]["end"]["line"] == 7
    assert found["DDP901"]["range"]["start"] == {"line": 8, "character": 8}
