package org.mosaic.conformance;

import java.util.ArrayList;
import java.util.List;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TCompactProtocol;
import org.apache.thrift.protocol.TMultiplexedProtocol;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.TTransportException;
import org.apache.thrift.transport.layered.TFramedTransport;

/** One protocol/transport pair (optionally multiplexed) and how to open connections with it. */
record Wire(String protocol, String transport, boolean multiplexed) {
    static List<Wire> all() {
        List<Wire> wires = new ArrayList<>();
        for (String protocol : List.of("binary", "compact")) {
            for (String transport : List.of("buffered", "framed")) {
                wires.add(new Wire(protocol, transport, false));
                wires.add(new Wire(protocol, transport, true));
            }
        }
        return wires;
    }

    /** An open socket to the server. */
    TSocket connect(int port) throws TTransportException {
        TSocket socket = new TSocket(new TConfiguration(), "127.0.0.1", port, 30_000);
        socket.open();
        return socket;
    }

    /** A transport over {@code socket}; framed transports are separate objects per call. */
    TTransport layer(TSocket socket) throws TTransportException {
        return transport.equals("framed") ? new TFramedTransport(socket) : socket;
    }

    TProtocol protocol(TTransport transport) {
        return protocol.equals("compact") ? new TCompactProtocol(transport) : new TBinaryProtocol(transport);
    }

    /** The output protocol for {@code service}: multiplexed when this wire is. */
    TProtocol output(TProtocol protocol, String service) {
        return multiplexed ? new TMultiplexedProtocol(protocol, service) : protocol;
    }

    @Override
    public String toString() {
        return protocol + "/" + transport + (multiplexed ? "/multiplexed" : "");
    }
}
