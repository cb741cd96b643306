package io.machxp.kernel.ipc;

/**
 * A client whose tasks' port names count together in the kernel's {@link NameBudget}: one
 * connection, and the peer it belongs to (the remote host and TLS certificate, as the kernel's
 * gRPC server tells them: {@code io.machxp.proto.transport.ClientPeer}). The tasks of all owners share
 * the remote pool, which leaves a reserve for tasks without one; all the connections of one peer
 * together hold at most a share of the pool, and no more than the names still free to remote
 * tasks. An owner that is not a NameOwner (tests) is its own peer.
 */
public interface NameOwner {
    /** The peer this connection belongs to (compared with equals). */
    Object peer();
}
