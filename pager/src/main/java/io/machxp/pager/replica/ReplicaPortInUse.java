package io.machxp.pager.replica;

import java.io.IOException;

/**
 * A replica could not listen on one of its two ports, its XP port or its Raft port (the next one),
 * because something else listens there. Its message is the sentence a person acts on: which
 * replica, which address and which of its ports, and what to do. A group started on loopback in
 * one JVM takes fresh ports on it ({@link LoopbackGroup}); any other failure to listen (an address
 * not of this host) is a plain IOException.
 */
public final class ReplicaPortInUse extends IOException {
    private static final long serialVersionUID = 1L;

    private final String address;

    /** @param address the address, "host:port", or where it is said (a replica's output, for a process) */
    public ReplicaPortInUse(String message, String address, Throwable cause) {
        super(message, cause);
        this.address = address;
    }

    /** The address, "host:port", the replica could not listen on. */
    public String address() {
        return address;
    }

    /** Whether {@code failure}, a server's start that failed, says that its port is taken. */
    static boolean portTaken(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("Address already in use")) {
                return true;
            }
        }
        return false;
    }

    /** {@code e} or one of its causes, if it is this; else null. */
    public static ReplicaPortInUse in(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ReplicaPortInUse p) {
                return p;
            }
        }
        return null;
    }

    /**
     * The sentence for a port this replica could not listen on: which replica, address and port,
     * why, and (for a port in use, this) what to do.
     */
    static IOException cannotListen(String pager, String bindHost, String replica, int port, String which, IOException e) {
        String address = bindHost + ":" + port;
        String said = "pager " + pager + " replica " + replica + ": cannot listen on " + address + ", "
                + which + ": " + io.machxp.proto.transport.SocketErrors.rootMessage(e);
        if (!ReplicaPortInUse.portTaken(e)) {
            return new IOException(said, e);
        }
        return new ReplicaPortInUse(said + "; is another pager or replica on that port? give replica " + replica
                + " another port in every replica's --replicas (a replica listens on PORT and PORT+1)", address, e);
    }
}
