"""A ThriftTest server built on Apache Thrift's own Python runtime and Apache-generated stubs.

It is the reference peer for Mosaic's clients and for this test suite: it implements every
method of ``ThriftTest`` (and ``SecondService`` when multiplexed) exactly as
``shared/conformance/README.md`` says, with Apache's protocols and transports doing all
the wire work. Like Apache's Python servers it speaks one protocol and one transport per
port.

Usage::

    python tests/python/reference_server.py --port=0 --protocol=compact --transport=framed
    python tests/python/reference_server.py --port=9090 --protocol=multi   # multiplexed binary

Once listening it prints one line, ``listening on 127.0.0.1:PORT``, on stdout (flushed), and
serves until SIGTERM or SIGINT, then exits 0. ``--protocol`` takes Apache's cross-test names
``binary``, ``compact``, ``multi`` and ``multic`` (the last two are ``--multiplexed``
binary/compact). Multiplexed, it serves ``ThriftTest`` and ``SecondService`` and sends
unprefixed method names to ``ThriftTest``. Binary reads accept strict and non-strict
messages; replies are strict.

``testUuid`` is absent from the v0.16 IDL the stubs are generated from (Debian's compiler
rejects ``uuid``), so it is added by hand with the runtime's ``readUuid``/``writeUuid``:
the server answers the current IDL's full ``ThriftTest``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.protocol.TProtocol import TProtocolBase
from thrift.Thrift import TApplicationException, TMessageType, TProcessor, TType
from thrift.TMultiplexedProcessor import TMultiplexedProcessor
from thrift.transport import TSocket, TTransport

import thrift_stubs

__all__ = ["Handler", "SecondHandler", "build_processor", "main"]

LOG = logging.getLogger("reference_server")

#: Largest frame, string and container size the server accepts (the suite echoes 32 MiB
#: binaries).
DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024

ProtocolFactory = Callable[[TTransport.TTransportBase], TProtocolBase]


class Handler:
    """``ThriftTest`` semantics from shared/conformance/README.md."""

    def __init__(self, stubs: thrift_stubs.Stubs) -> None:
        self._t = stubs.ttypes

    def testVoid(self) -> None:
        return None

    def testString(self, thing: str) -> str:
        return thing

    def testBool(self, thing: bool) -> bool:
        return thing

    def testByte(self, thing: int) -> int:
        return thing

    def testI32(self, thing: int) -> int:
        return thing

    def testI64(self, thing: int) -> int:
        return thing

    def testDouble(self, thing: float) -> float:
        return thing

    def testBinary(self, thing: bytes) -> bytes:
        return thing

    def testUuid(self, thing: uuid.UUID) -> uuid.UUID:
        return thing

    def testStruct(self, thing: Any) -> Any:
        # The stubs keep unset fields as None, so the echo has exactly the fields received.
        return thing

    def testNest(self, thing: Any) -> Any:
        return thing

    def testMap(self, thing: dict[int, int]) -> dict[int, int]:
        return thing

    def testStringMap(self, thing: dict[str, str]) -> dict[str, str]:
        return thing

    def testSet(self, thing: set[int]) -> set[int]:
        return thing

    def testList(self, thing: list[int]) -> list[int]:
        return thing

    def testEnum(self, thing: int) -> int:
        return thing

    def testTypedef(self, thing: int) -> int:
        return thing

    def testMapMap(self, hello: int) -> dict[int, dict[int, int]]:
        return {-4: {-4: -4, -3: -3, -2: -2, -1: -1}, 4: {1: 1, 2: 2, 3: 3, 4: 4}}

    def testInsanity(self, argument: Any) -> dict[int, dict[int, Any]]:
        numberz = self._t.Numberz
        return {
            1: {numberz.TWO: argument, numberz.THREE: argument},
            2: {numberz.SIX: self._t.Insanity()},
        }

    def testMulti(
        self,
        arg0: int,
        arg1: int,
        arg2: int,
        arg3: dict[int, str],
        arg4: int,
        arg5: int,
    ) -> Any:
        return self._t.Xtruct(
            string_thing="Hello2", byte_thing=arg0, i32_thing=arg1, i64_thing=arg2
        )

    def testException(self, arg: str) -> None:
        if arg == "Xception":
            raise self._t.Xception(errorCode=1001, message=arg)
        if arg == "TException":
            # Not declared by the method: the stubs answer with an EXCEPTION message.
            raise TApplicationException(
                TApplicationException.INTERNAL_ERROR,
                'testException("TException") raises an undeclared exception',
            )

    def testMultiException(self, arg0: str, arg1: str) -> Any:
        if arg0 == "Xception":
            raise self._t.Xception(errorCode=1001, message="This is an Xception")
        if arg0 == "Xception2":
            raise self._t.Xception2(
                errorCode=2002, struct_thing=self._t.Xtruct(string_thing="This is an Xception2")
            )
        return self._t.Xtruct(string_thing=arg1)

    def testOneway(self, secondsToSleep: int) -> None:
        # Sleep off the connection's thread: the client's next call must not wait for it.
        seconds = max(0, min(int(secondsToSleep), 60))
        threading.Thread(target=time.sleep, args=(seconds,), daemon=True).start()


class SecondHandler:
    """``SecondService``: wraps the argument the way every Apache client checks."""

    def secondtestString(self, thing: str) -> str:
        return f'testString("{thing}")'


def _process_test_uuid(processor: Any, seqid: int, iprot: Any, oprot: Any) -> None:
    """``uuid testUuid(1: uuid thing)``, hand-decoded and hand-encoded with the runtime."""
    value: uuid.UUID | None = None
    iprot.readStructBegin()
    while True:
        _, ftype, fid = iprot.readFieldBegin()
        if ftype == TType.STOP:
            break
        if fid == 1 and ftype == TType.UUID:
            value = iprot.readUuid()
        else:
            iprot.skip(ftype)
        iprot.readFieldEnd()
    iprot.readStructEnd()
    iprot.readMessageEnd()
    oprot.writeMessageBegin("testUuid", TMessageType.REPLY, seqid)
    oprot.writeStructBegin("testUuid_result")
    if value is not None:
        oprot.writeFieldBegin("success", TType.UUID, 0)
        oprot.writeUuid(processor._handler.testUuid(value))
        oprot.writeFieldEnd()
    oprot.writeFieldStop()
    oprot.writeStructEnd()
    oprot.writeMessageEnd()
    oprot.trans.flush()


def build_processor(stubs: thrift_stubs.Stubs, multiplexed: bool) -> TProcessor:
    """The ThriftTest processor, or a multiplexer of both services with ThriftTest as default."""
    thrift_test = stubs.ThriftTest.Processor(Handler(stubs))
    thrift_test._processMap["testUuid"] = _process_test_uuid
    if not multiplexed:
        return thrift_test
    mux = TMultiplexedProcessor()
    mux.registerProcessor("ThriftTest", thrift_test)
    mux.registerProcessor("SecondService", stubs.SecondService.Processor(SecondHandler()))
    mux.registerDefault(thrift_test)
    return mux


def _protocol_factory(name: str, accelerated: bool, max_message: int) -> ProtocolFactory:
    factory: Any
    if name == "binary":
        cls = (
            TBinaryProtocol.TBinaryProtocolAcceleratedFactory
            if accelerated
            else TBinaryProtocol.TBinaryProtocolFactory
        )
        factory = cls(string_length_limit=max_message, container_length_limit=max_message)
    else:
        cls = (
            TCompactProtocol.TCompactProtocolAcceleratedFactory
            if accelerated
            else TCompactProtocol.TCompactProtocolFactory
        )
        factory = cls(string_length_limit=max_message, container_length_limit=max_message)
    return factory.getProtocol  # type: ignore[no-any-return]


class _Server:
    def __init__(
        self,
        processor: TProcessor,
        protocol: ProtocolFactory,
        framed: bool,
        max_message: int,
        port: int,
    ) -> None:
        self._processor = processor
        self._protocol = protocol
        self._framed = framed
        self._max_message = max_message
        self._listener = socket.create_server(("127.0.0.1", port), backlog=256)
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def serve_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                if self._stopping.is_set():
                    break
                raise
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve_connection, args=(conn,), daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()

    def _serve_connection(self, conn: socket.socket) -> None:
        raw = TSocket.TSocket()
        raw.setHandle(conn)
        transport: TTransport.TTransportBase = (
            TTransport.TFramedTransport(raw, max_frame_size=self._max_message)
            if self._framed
            else TTransport.TBufferedTransport(raw)
        )
        protocol = self._protocol(transport)
        try:
            while True:
                self._processor.process(protocol, protocol)
        except TTransport.TTransportException as err:
            if err.type != TTransport.TTransportException.END_OF_FILE:
                LOG.warning("closing connection: %s", err)
        except Exception:
            LOG.exception("closing connection after an error")
        finally:
            transport.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9090, help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument(
        "--protocol",
        choices=["binary", "compact", "multi", "multic"],
        default="binary",
        help="wire protocol; multi/multic are multiplexed binary/compact",
    )
    parser.add_argument("--transport", choices=["buffered", "framed"], default="buffered")
    parser.add_argument(
        "--multiplexed",
        action="store_true",
        help="serve ThriftTest and SecondService through TMultiplexedProcessor",
    )
    parser.add_argument(
        "--accelerated", action="store_true", help="use the C-accelerated protocol classes"
    )
    parser.add_argument(
        "--max-message-size",
        type=int,
        default=DEFAULT_MAX_MESSAGE,
        help="largest frame and string accepted, in bytes; also the largest container size",
    )
    parser.add_argument(
        "--stubs-dir",
        type=Path,
        help="directory already holding `thrift --gen py` output for the v0.16 IDL "
        "(default: generate into a temporary directory)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="reference_server: %(levelname)s %(name)s: %(message)s",
    )

    multiplexed = args.multiplexed or args.protocol.startswith("multi")
    wire = "compact" if args.protocol in ("compact", "multic") else "binary"

    with tempfile.TemporaryDirectory(prefix="thrifttest-py-") as tmp:
        stubs_dir = args.stubs_dir
        if stubs_dir is None:
            stubs_dir = Path(tmp)
            thrift_stubs.generate(stubs_dir)
        stubs = thrift_stubs.load(stubs_dir)
        server = _Server(
            build_processor(stubs, multiplexed),
            _protocol_factory(wire, args.accelerated, args.max_message_size),
            framed=args.transport == "framed",
            max_message=args.max_message_size,
            port=args.port,
        )

        def on_signal(signum: int, frame: FrameType | None) -> None:
            server.stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        print(f"listening on 127.0.0.1:{server.port}", flush=True)
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
