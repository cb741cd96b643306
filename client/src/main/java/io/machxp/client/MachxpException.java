package io.machxp.client;

import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.machxp.proto.task.Errno;

/**
 * A failed call to a kernel: the gRPC status code, the errno-like reason the kernel attached
 * (ERRNO_UNSPECIFIED when the failure came from the transport, e.g. a kernel that is down), and
 * the kernel's sentence.
 */
public final class MachxpException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final Status.Code code;
    private final Errno errno;

    private MachxpException(Status.Code code, Errno errno, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.errno = errno;
    }

    public Status.Code code() {
        return code;
    }

    public Errno errno() {
        return errno;
    }

    /**
     * True when the call failed because the server could not be reached (gRPC UNAVAILABLE from the
     * transport, no errno from a kernel): nothing listens at the address, or it went away.
     */
    public boolean unreachable() {
        return code == Status.Code.UNAVAILABLE && errno == Errno.ERRNO_UNSPECIFIED && !tls(this);
    }

    /**
     * EOWNERDEAD from a lock or trylock that succeeded (code OK): the futex's previous owner died
     * holding it, and the caller owns it now (ThreadClient#lockFutex).
     */
    static MachxpException ownerDied(long address) {
        return new MachxpException(Status.Code.OK, Errno.EOWNERDEAD, String.format(java.util.Locale.ROOT,
                "the previous owner of the futex at 0x%x died holding it: this thread owns it now; repair what it "
                        + "protects and call markConsistent before unlocking it, or it becomes ENOTRECOVERABLE",
                address), null);
    }

    /**
     * True when a call with a deadline got no answer within it (DEADLINE_EXCEEDED from this side,
     * no errno): the server may have accepted the connection, but it is overloaded, stopped or stuck.
     */
    public boolean noAnswer() {
        return code == Status.Code.DEADLINE_EXCEEDED && errno == Errno.ERRNO_UNSPECIFIED;
    }

    /**
     * {@link #from}, for a call made with {@code deadline}: DEADLINE_EXCEEDED without an errno is
     * this side's deadline, said as a sentence ({@link #noAnswer}) rather than gRPC's description.
     */
    static MachxpException from(String target, java.time.Duration deadline, StatusRuntimeException e) {
        MachxpException m = from(target, e);
        if (deadline == null || !m.noAnswer()) {
            return m;
        }
        return new MachxpException(Status.Code.DEADLINE_EXCEEDED, Errno.ERRNO_UNSPECIFIED, target
                + " did not answer within " + seconds(deadline) + ": the server there is overloaded, stopped or "
                + "stuck, or the network drops its packets (its log may say why)", e);
    }

    /** "10 s", "0.5 s". */
    private static String seconds(java.time.Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() / 1000.0 + " s";
    }

    static MachxpException from(String target, StatusRuntimeException e) {
        Errno errno = Errno.ERRNO_UNSPECIFIED;
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        if (status != null) {
            for (var detail : status.getDetailsList()) {
                if (detail.is(ErrorInfo.class)) {
                    try {
                        errno = Errno.valueOf(detail.unpack(ErrorInfo.class).getReason());
                    } catch (IllegalArgumentException | com.google.protobuf.InvalidProtocolBufferException unknown) {
                        errno = Errno.ERRNO_UNSPECIFIED;
                    }
                }
            }
        }
        String description = e.getStatus().getDescription();
        if (e.getStatus().getCode() == Status.Code.UNAVAILABLE && errno == Errno.ERRNO_UNSPECIFIED && !tls(e)) {
            String cause = rootCause(e);
            return new MachxpException(Status.Code.UNAVAILABLE, errno, "cannot reach " + target + ": "
                    + cause + "; " + io.machxp.proto.transport.SocketErrors.whatToCheck(cause,
                    "is the server running there, and is the address right?"), e);
        }
        if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED && errno == Errno.ERRNO_UNSPECIFIED
                && description != null && description.startsWith("Method not found: ")) {
            return new MachxpException(Status.Code.UNIMPLEMENTED, errno, wrongServer(target,
                    description.substring("Method not found: ".length())), e);
        }
        return new MachxpException(e.getStatus().getCode(), errno,
                description != null ? description : e.getStatus().getCode().toString(), e);
    }

    /**
     * The sentence for a server that does not offer the service called: the address is another
     * server's (a pager's port given for a kernel, or the other way round), not what was meant.
     */
    static String wrongServer(String target, String method) {
        String service = method.contains("/") ? method.substring(0, method.indexOf('/')) : method;
        String wanted = service.startsWith("machxp.admin.") ? "a pager (its XP port, 7070 by default)"
                : service.startsWith("machxp.task.") ? "a kernel (its task port, 7071 by default)"
                : "a server that offers " + service;
        return target + " does not serve " + method + ": it is not " + wanted
                + "; is the address right (a pager's port where a kernel's is meant, or the other way round)?";
    }

    /**
     * The memory the kernel at {@code target} shares with this process faulted under an access
     * (the JVM's InternalError for a SIGBUS: a file of a full tmpfs touched for the first time, or
     * one shrunk under the mapping): INTERNAL with EIO, as a failed page supply is, and a sentence
     * that says what to do. docs/shared-memory.md.
     */
    static MachxpException sharedMemoryFault(String target, InternalError e) {
        return new MachxpException(Status.Code.INTERNAL, Errno.EIO, "the memory kernel " + target + " shares with this "
                + "process faulted (" + e.getMessage() + "): its shared-memory directory is full or a file shrank; "
                + "the operation may have taken effect; the task makes its calls over gRPC from now on", e);
    }

    /** A TLS handshake that failed: a configuration error, though gRPC reports it UNAVAILABLE too. */
    private static boolean tls(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof javax.net.ssl.SSLException || c instanceof java.security.GeneralSecurityException) {
                return true;
            }
        }
        return false;
    }

    /** The innermost cause's message ("Connection refused", {@link io.machxp.proto.transport.SocketErrors}), else the status's description. */
    private static String rootCause(StatusRuntimeException e) {
        Throwable t = io.machxp.proto.transport.SocketErrors.innermost(e);
        String message = t != e && t.getMessage() != null ? t.getMessage() : e.getStatus().getDescription();
        return message != null ? io.machxp.proto.transport.SocketErrors.clean(message) : "no answer";
    }
}
