"""An ImageService that is at capacity for the first calls of each method, served by
Apache's Python runtime on the SDK's own generated Processor, as a real server process.

``info`` answers the declared ``common.Overloaded`` (with ``retry_after_ms``) and ``status``
Mosaic's ``TApplicationException`` type 100 (OVERLOADED) for the first ``--busy`` calls,
then succeed, reporting how many calls they saw (``info().width``, ``status().served``).

Usage: python overloaded_server.py --busy=N (prints ``listening on 127.0.0.1:PORT``).
"""

from __future__ import annotations

import argparse
import socket
import threading
from collections import Counter

from thrift.protocol import TBinaryProtocol
from thrift.Thrift import TApplicationException
from thrift.transport import TSocket, TTransport

from mosaic_rpc.image import Image, ImageInfo, ImageService, Overloaded, PixelFormat, ServerStatus

OVERLOADED = 100


class Handler(ImageService.Iface):
    def __init__(self, busy: int) -> None:
        self.busy = busy
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()

    def _count(self, method: str) -> int:
        with self.lock:
            self.calls[method] += 1
            return self.calls[method]

    def ping(self) -> None:
        pass

    def info(self, image: Image) -> ImageInfo:
        calls = self._count("info")
        if calls <= self.busy:
            raise Overloaded(message="at capacity", retry_after_ms=100)
        return ImageInfo(width=calls, height=1, pixel_format=PixelFormat.GRAY8, size_bytes=0)

    def status(self) -> ServerStatus:
        calls = self._count("status")
        if calls <= self.busy:
            raise TApplicationException(OVERLOADED, "at capacity")
        return ServerStatus(name="overloaded", version="0", uptime_ms=0, in_flight=0, served=calls)


def serve_connection(processor: ImageService.Processor, conn: socket.socket) -> None:
    raw = TSocket.TSocket()
    raw.handle = conn
    transport = TTransport.TFramedTransport(raw)
    protocol = TBinaryProtocol.TBinaryProtocol(transport)
    try:
        while True:
            processor.process(protocol, protocol)
    except (TTransport.TTransportException, EOFError, OSError):
        pass
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--busy", type=int, default=2)
    args = parser.parse_args()
    processor = ImageService.Processor(Handler(args.busy))
    listener = socket.create_server(("127.0.0.1", 0))
    print(f"listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_connection, args=(processor, conn), daemon=True).start()


if __name__ == "__main__":
    main()
