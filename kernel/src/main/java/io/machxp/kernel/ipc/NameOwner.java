package io.machxp.kernel.ipc;

/**
 * A client whose tasks' port names count together in the kernel's {@link NameBudget}: one
 * connection, and the peer it belongs to (the remote host and TLS certificate, as the kernel's
 * gRPC server tells them: {@code io.machxp.kernel.net.ClientPeer}). A connection's tasks hold at
 * most a quarter of the budget; all the connections of one peer together at most as many names
 * as the kernel still has free. An owner that is not a NameOwner (tests) is its own peer.
 */
public interface NameOwner {
    /** The peer this connection belongs to (compared with equals). */
    Object peer();
}
