"""A TCP relay in front of a real server that can misbehave on purpose.

Modes, switchable at any time (each applies to connections accepted afterwards):

* ``relay``: forward bytes both ways to the target server;
* ``stall``: accept and hold the connection, never reading or answering (a hung server);
* ``swallow``: accept and read every request, never answering (a hung handler);
* ``drop``: read the first bytes of the request, then close (a server that dies mid-call).
"""

from __future__ import annotations

import socket
import threading
from typing import Literal

__all__ = ["Proxy"]

Mode = Literal["relay", "stall", "swallow", "drop"]


class Proxy:
    """Listens on 127.0.0.1 at a port the system picks; ``close()`` stops everything."""

    def __init__(self, target: tuple[str, int], mode: Mode = "relay") -> None:
        self.target = target
        self.mode: Mode = mode
        self.accepted = 0
        #: Request bytes read (and dropped) in ``swallow`` mode.
        self.swallowed = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def held_open(self) -> int:
        """Stalled connections the client has not closed yet (reads what they hold)."""
        with self._lock:
            held = list(self._held)
        count = 0
        for sock in held:
            # Unread request bytes may come before the end of stream: read past them.
            sock.setblocking(False)
            try:
                while sock.recv(1 << 16):
                    pass
            except BlockingIOError:
                count += 1
            except OSError:
                pass
        return count

    def _accept_loop(self) -> None:
        self._listener.settimeout(0.1)  # so close() ends this loop promptly
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with self._lock:
                if self._closed:
                    conn.close()
                    return
                self.accepted += 1
                self._sockets.append(conn)
                mode = self.mode
                if mode == "stall":
                    self._held.append(conn)
            if mode == "relay":
                self._relay(conn)
            elif mode == "drop":
                threading.Thread(target=self._drop, args=(conn,), daemon=True).start()
            elif mode == "swallow":
                threading.Thread(target=self._swallow, args=(conn,), daemon=True).start()
            # stall: keep the socket open and never touch it.

    def _drop(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            conn.recv(4)
        except OSError:
            pass
        conn.close()

    def _swallow(self, conn: socket.socket) -> None:
        """Reads until the client hangs up (or `close`), answering nothing."""
        try:
            while data := conn.recv(1 << 16):
                with self._lock:
                    self.swallowed += len(data)
        except OSError:
            pass
        conn.close()

    def _relay(self, conn: socket.socket) -> None:
        upstream = socket.create_connection(self.target, timeout=10)
        upstream.settimeout(None)
        with self._lock:
            self._sockets.append(upstream)
        for src, dst in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sockets, self._sockets = self._sockets, []
        self._thread.join(5)
        self._listener.close()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a thread reading it
            except OSError:
                pass
            sock.close()
