package io.machxp.proto.transport;

import java.io.IOException;

/**
 * A server (pager or kernel) that did not answer at its address: nothing listens there, it is
 * down, or a firewall drops the connection. The message names the address and says what to check;
 * the machxp command exits with code 3 for it.
 */
public class ServerUnreachable extends IOException {
    private static final long serialVersionUID = 1L;

    public ServerUnreachable(String message, Throwable cause) {
        super(message, cause);
    }
}
