package io.machxp.proto.transport;

import java.util.regex.Pattern;

/**
 * The sentence a person sees for a socket that failed (a port in use, nothing listening): the
 * innermost cause's message, without the system-call prefix Netty's native transport puts before
 * the operating system's words ("bind(..) failed with error(-98): Address already in use" becomes
 * "Address already in use"), so that every machxp command says it the same way whichever transport
 * Netty picked.
 */
public final class SocketErrors {
    /** Netty's native prefix: "bind(..) failed with error(-98): ", or "connect(..) failed: " in older releases. */
    private static final Pattern NATIVE_PREFIX = Pattern.compile("^\\w+\\(\\.\\.\\) failed(?: with error\\(-?\\d+\\))?: ");

    private SocketErrors() {}

    /** The innermost cause's message, cleaned; {@code t.toString()} when no cause has one. */
    public static String rootMessage(Throwable t) {
        String message = innermost(t).getMessage();
        message = message != null ? message : t.getMessage();
        return message != null ? clean(message) : t.toString();
    }

    /** {@code t}'s innermost cause ({@code t} itself when it has none). */
    public static Throwable innermost(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c;
    }

    /**
     * What to check for a server that could not be reached, or {@code otherwise}: {@code rootMessage}
     * is gRPC's "Network closed for unknown reason", or the socket's "Connection reset", when
     * something listens there but closed the connection at once, as a server with TLS does to a
     * client without it (which of the two depends on when the server's TLS gave up).
     */
    public static String whatToCheck(String rootMessage, String otherwise) {
        return rootMessage.contains("Network closed for unknown reason") || rootMessage.contains("Connection reset")
                ? "something listens there but closed the connection at once, as a server with TLS does to a "
                        + "client without it: give --tls-cert, --tls-key and --tls-ca (machxp certs DIR makes them)"
                : otherwise;
    }

    /** {@code message} without Netty's native system-call prefix. */
    public static String clean(String message) {
        return NATIVE_PREFIX.matcher(message).replaceFirst("");
    }
}
