package dev.mosaic.client;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Ports for tests, chosen at run time. */
final class Ports {
    private Ports() {}

    /** A port nothing listens on: the system picked it for a listener that is closed again. */
    static int closed() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
