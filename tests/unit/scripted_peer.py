"""A scripted HTTP peer on 127.0.0.1 for the HTTP client's and the event stream's unit
tests: real sockets, answers the tests state."""

from __future__ import annotations

import socket
import struct
import threading
import time

TIMEOUT_S = 5.0

CLOSE = object()  # in a script: close the connection here
RESET = object()  # in a script: reset the connection here (a RST, not a FIN)
HOLD = object()  # in a script: keep the connection open, saying nothing, until the peer closes


class ScriptedPeer:
    """Serves each connection the next script: a list of answers, each sent after one whole
    request has been read; an answer is bytes, or a tuple of bytes and pauses (seconds, as
    floats) sent in turn, as an event stream answers; ``CLOSE``, ``RESET`` and ``HOLD`` end
    the script. Records the requests' bytes."""

    def __init__(self, *scripts: list) -> None:
        self.scripts = list(scripts)
        self.requests: list[bytes] = []
        self.closing = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(TIMEOUT_S)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for script in self.scripts:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(TIMEOUT_S)
                buffer = b""
                for step in script:
                    if step is CLOSE:
                        break
                    if step is RESET:
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        break
                    if step is HOLD:
                        self.closing.wait(TIMEOUT_S)
                        break
                    buffer = self._read_request(conn, buffer)
                    if buffer is None:
                        break
                    for piece in step if isinstance(step, tuple) else (step,):
                        if isinstance(piece, float):
                            time.sleep(piece)
                        else:
                            conn.sendall(piece)

    def _read_request(self, conn: socket.socket, buffer: bytes) -> bytes | None:
        while b"\r\n\r\n" not in buffer:
            data = conn.recv(65536)
            if not data:
                return None
            buffer += data
        head, _, rest = buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            rest += conn.recv(65536)
        self.requests.append(head + b"\r\n\r\n" + rest[:length])
        return rest[length:]

    def close(self) -> None:
        self.closing.set()
        self.listener.close()
        self.thread.join(TIMEOUT_S)
