package io.machxp.proto.transport;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.util.HexFormat;

/**
 * Who a client connection belongs to, as far as the kernel can tell: the host it comes from and
 * the certificate it presented. The connections of one peer share its part of the kernel's port
 * names ({@code NameBudget}), so that a client cannot take more by opening more connections
 * (review gi F4); at a pager, the XP streams of one peer share one turn of its event loop and one
 * budget of a replicated leader's appends ({@code CallerPeer}, review burst M2). The host is the remote IP address: an IPv4 one whole, an IPv6 one by its /64
 * (what one host or site is usually given, so every host of one IPv6 LAN, and every link-local
 * client, is one host here), and every loopback address (127.0.0.0/8, ::1) the one host
 * "loopback", since a local process may bind any of them (review late3 A2: 127.0.0.2, .3, ...
 * were a peer each). With mutual TLS the certificate's SHA-256 is part of it, so clients with
 * certificates of their own are peers of their own, on one host too. What it cannot tell apart:
 * the clients of one host that use one certificate, or none (every local client in plaintext),
 * are one peer; a client with many addresses (IPv4 ones, IPv6 /64s) or certificates is many.
 * Not an IP socket (in-process): one peer for all.
 *
 * @param host the remote address (IPv6: its /64), "loopback", or "local"
 * @param certificate the SHA-256 of the client's certificate (hex, first 16 bytes), or "" without TLS
 */
public record ClientPeer(String host, String certificate) {
    /** The peer of a connection from {@code remote}, whose TLS peer chain is {@code chain} (null: none). */
    public static ClientPeer of(SocketAddress remote, Certificate[] chain) {
        return new ClientPeer(host(remote), chain == null || chain.length == 0 ? "" : fingerprint(chain[0]));
    }

    private static String host(SocketAddress remote) {
        if (!(remote instanceof InetSocketAddress inet) || inet.getAddress() == null) {
            return "local";
        }
        InetAddress a = inet.getAddress();
        if (a.isLoopbackAddress()) {
            return "loopback";
        }
        if (a instanceof Inet6Address) {
            byte[] b = a.getAddress();
            java.util.Arrays.fill(b, 8, 16, (byte) 0);
            try {
                return InetAddress.getByAddress(b).getHostAddress() + "/64";
            } catch (java.net.UnknownHostException e) {
                throw new IllegalStateException(e); // 16 bytes are always an address
            }
        }
        return a.getHostAddress();
    }

    private static String fingerprint(Certificate c) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(c.getEncoded());
            return HexFormat.of().formatHex(d, 0, 16);
        } catch (CertificateEncodingException | NoSuchAlgorithmException e) {
            return "an unreadable certificate";
        }
    }

    @Override
    public String toString() {
        return certificate.isEmpty() ? host : host + " (certificate " + certificate + ")";
    }
}
