package io.machxp.proto.transport;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * How a machxp process secures its gRPC connections, and the policy that holds for every one of
 * them (kernel to pager, client to kernel, tools to pager):
 *
 * <ul>
 *   <li><b>With TLS files</b> ({@link #mutualTls}): mutual TLS everywhere. A server requires a client
 *       certificate signed by the CA; a client checks the server's certificate against the CA and the
 *       name it connects to.
 *   <li><b>Without</b> ({@link #LOOPBACK_PLAINTEXT}, the default): plaintext, but a server may only bind
 *       a loopback address and a client may only connect to one. So two processes on different hosts
 *       never talk in the clear unless someone asked for it.
 *   <li><b>{@link #PLAINTEXT}</b> ({@code --plaintext}): plaintext anywhere, explicitly.
 * </ul>
 *
 * The check is made when credentials are asked for, before anything binds or connects, and fails
 * with a {@link TransportException} whose sentence says what to do. Loopback means the host is
 * {@code localhost} or every address it resolves to is a loopback address (127.0.0.0/8, ::1); a
 * literal address is never looked up.
 *
 * @param tls the process's TLS files; null for plaintext
 * @param plaintextAnywhere without TLS files, allow plaintext off loopback too ({@code --plaintext})
 */
public record Transport(TlsFiles tls, boolean plaintextAnywhere) {
    /** The default: plaintext, on loopback only. */
    public static final Transport LOOPBACK_PLAINTEXT = new Transport(null, false);
    /** Plaintext on any address, asked for explicitly ({@code --plaintext}). */
    public static final Transport PLAINTEXT = new Transport(null, true);

    public Transport {
        if (tls != null && plaintextAnywhere) {
            throw new TransportException("--plaintext and TLS files exclude each other; give the TLS files for mutual TLS, "
                    + "or --plaintext alone for none");
        }
    }

    /** Mutual TLS with these files. */
    public static Transport mutualTls(TlsFiles files) {
        return new Transport(java.util.Objects.requireNonNull(files, "files"), false);
    }

    public boolean isTls() {
        return tls != null;
    }

    /**
     * The credentials of a server that listens on {@code bindHost}.
     *
     * @param who names the server in an error, e.g. "kernel A"
     * @throws TransportException plaintext on a non-loopback address without {@code --plaintext}, or
     *     unusable TLS files
     */
    public ServerCredentials serverCredentials(String bindHost, String who) {
        if (tls != null) {
            try {
                return tls.serverCredentials();
            } catch (TransportException e) {
                throw new TransportException(who + ": " + e.getMessage(), e.getCause());
            }
        }
        if (!plaintextAnywhere && !isLoopbackHost(bindHost)) {
            throw new TransportException(who + " would listen on " + bindHost + " without TLS, which is allowed only on"
                    + " a loopback address: give --tls-cert, --tls-key and --tls-ca (machxp certs DIR makes them), or"
                    + " --plaintext to accept unauthenticated connections");
        }
        return InsecureServerCredentials.create();
    }

    /**
     * The credentials of a client of {@code target} ("host:port", as gRPC takes it).
     *
     * @param who names the client in an error, e.g. "kernel A"
     * @throws TransportException plaintext to a non-loopback target without {@code --plaintext}, or
     *     unusable TLS files
     */
    public ChannelCredentials channelCredentials(String target, String who) {
        if (tls != null) {
            try {
                return tls.channelCredentials();
            } catch (TransportException e) {
                throw new TransportException(who + ": " + e.getMessage(), e.getCause());
            }
        }
        if (!plaintextAnywhere && !isLoopbackHost(hostOfTarget(target))) {
            throw new TransportException(who + " would connect to " + target + " without TLS, which is allowed only to"
                    + " a loopback address: give --tls-cert, --tls-key and --tls-ca (machxp certs DIR makes them), or"
                    + " --plaintext to connect unauthenticated");
        }
        return InsecureChannelCredentials.create();
    }

    /**
     * True if {@code host} is {@code localhost}, or a name or literal whose every address is a
     * loopback address. Brackets around an IPv6 literal are allowed. An empty or unknown host is
     * not loopback.
     */
    public static boolean isLoopbackHost(String host) {
        if (host == null) {
            return false;
        }
        String h = host.strip();
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        if (h.isEmpty()) {
            return false; // InetAddress would say loopback, but a server would bind every address
        }
        if (h.toLowerCase(Locale.ROOT).equals("localhost")) {
            return true;
        }
        try {
            InetAddress[] addresses = InetAddress.getAllByName(h);
            for (InetAddress a : addresses) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return addresses.length > 0;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /**
     * The host of a gRPC target: "host:port", "[v6]:port", "host", or a URI such as
     * "dns:///host:port". Whatever cannot be parsed is returned whole (and is then not loopback).
     */
    public static String hostOfTarget(String target) {
        String authority = target.strip();
        if (authority.contains("://")) {
            try {
                URI uri = new URI(authority);
                String path = uri.getPath();
                authority = path != null && path.startsWith("/") ? path.substring(1) : uri.getAuthority();
                if (authority == null) {
                    return target;
                }
            } catch (java.net.URISyntaxException e) {
                return target;
            }
        }
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            return close < 0 ? authority : authority.substring(0, close + 1);
        }
        int colon = authority.indexOf(':');
        if (colon < 0 || authority.indexOf(':', colon + 1) >= 0) {
            return authority; // no port, or an IPv6 literal without brackets
        }
        return authority.substring(0, colon);
    }
}
