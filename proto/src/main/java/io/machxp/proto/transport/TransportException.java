package io.machxp.proto.transport;

/**
 * A process cannot set up its connections as configured: TLS files missing, unreadable or not
 * matching, or plaintext off loopback without {@code --plaintext}. The message is one sentence that
 * says what to do; it is meant to be shown as it is, without a stack trace.
 */
public final class TransportException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TransportException(String message) {
        super(message);
    }

    public TransportException(String message, Throwable cause) {
        super(message, cause);
    }
}
