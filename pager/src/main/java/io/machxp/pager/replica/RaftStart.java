package io.machxp.pager.replica;

import java.io.IOException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.ExitUtils;

/**
 * Starts a replica's Ratis server so that a Raft port it cannot listen on is an exception of the
 * caller's, never the end of the JVM.
 *
 * <p>How Ratis (3.1.3, 3.3.0) decides to exit: {@code RaftServer#start} starts the group's division, then its
 * gRPC server; when that server cannot bind (the port is taken), Ratis's {@code GrpcServicesImpl}
 * ({@code GrpcService} in 3.1.3) calls
 * {@code ExitUtils.terminate(1, "Failed to start Grpc server", ...)}, which calls
 * {@code System.exit(1)} unless {@code ExitUtils.disableSystemExit()} was called in the JVM; then it
 * throws an {@code ExitUtils.ExitException} (a RuntimeException, the bind failure its cause) out of
 * {@code start}. That is the only place Ratis's own code exits. A test's JVM (a surefire fork) or a
 * JVM holding several replicas died of one replica's busy port.
 *
 * <p>So the exit is disabled once per JVM, before a replica starts, and the exception is made an
 * {@link IOException} with the bind failure as its cause ({@link ReplicatedPager#start} says which
 * address, {@link ReplicaPortInUse}). Ratis's first use of {@code ExitUtils} also installs a JVM-wide
 * default uncaught-exception handler of its own (which, with the exit disabled, only logs); the
 * handler the JVM had before is put back, so that nothing else in the process changes.
 */
final class RaftStart {
    private RaftStart() {
    }

    static {
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        ExitUtils.disableSystemExit();
        Thread.setDefaultUncaughtExceptionHandler(before);
    }

    /** Ratis's gRPC server did not start (it could not listen on its port); the cause is Ratis's. */
    static final class RpcNotStarted extends IOException {
        private static final long serialVersionUID = 1L;

        RpcNotStarted(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Starts {@code raft}; a gRPC server that did not start (its port taken) is {@link RpcNotStarted},
     * any other failure the IOException Ratis threw. The server is left for the caller to close.
     */
    static void start(RaftServer raft) throws IOException {
        try {
            raft.start();
        } catch (ExitUtils.ExitException e) {
            ExitUtils.clear(); // the JVM goes on: Ratis's record of a "termination" would say otherwise
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new RpcNotStarted(e.getMessage() + ": " + io.machxp.proto.transport.SocketErrors.rootMessage(cause),
                    cause);
        }
    }
}
