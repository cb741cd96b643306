package io.machxp.proto.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.PublicKey;
import java.security.cert.Certificate;
import org.junit.jupiter.api.Test;

/** Which connections are one peer for the kernel's port names (review gi F4). */
class ClientPeerTest {
    private static InetSocketAddress at(String ip, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    /** A certificate of these bytes (only its encoding is read). */
    private static Certificate cert(String text) {
        byte[] encoded = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return new Certificate("X.509") {
            @Override
            public byte[] getEncoded() {
                return encoded.clone();
            }

            @Override
            public void verify(PublicKey key) {}

            @Override
            public void verify(PublicKey key, String sigProvider) {}

            @Override
            public String toString() {
                return "a test certificate";
            }

            @Override
            public PublicKey getPublicKey() {
                return null;
            }
        };
    }

    @Test
    void oneHostIsOnePeerWhateverItsPorts() throws Exception {
        assertThat(ClientPeer.of(at("10.0.0.5", 40001), null)).isEqualTo(ClientPeer.of(at("10.0.0.5", 40002), null));
        assertThat(ClientPeer.of(at("10.0.0.5", 40001), null)).isNotEqualTo(ClientPeer.of(at("10.0.0.6", 40001), null));
    }

    @Test
    void anIpv6HostIsItsSlash64() throws Exception {
        assertThat(ClientPeer.of(at("2001:db8:1:2::1", 1), null)).isEqualTo(ClientPeer.of(at("2001:db8:1:2:ffff::9", 2), null));
        assertThat(ClientPeer.of(at("2001:db8:1:2::1", 1), null)).isNotEqualTo(ClientPeer.of(at("2001:db8:1:3::1", 1), null));
        assertThat(ClientPeer.of(at("fe80::1%1", 1), null)).as("one IPv6 LAN (here link-local) is one host")
                .isEqualTo(ClientPeer.of(at("fe80::2%1", 1), null));
    }

    /**
     * Review late3 A2: a local process may bind any 127/8 source address, and each was a peer of
     * its own (with the names' per-peer share, one process took many shares). Every loopback
     * address, IPv4 or IPv6, is now the one host "loopback"; a certificate still tells clients apart.
     */
    @Test
    void everyLoopbackAddressIsOneHost() throws Exception {
        ClientPeer one = ClientPeer.of(at("127.0.0.1", 1), null);
        assertThat(one.host()).isEqualTo("loopback");
        assertThat(ClientPeer.of(at("127.0.0.2", 2), null)).isEqualTo(one);
        assertThat(ClientPeer.of(at("127.255.3.9", 2), null)).isEqualTo(one);
        assertThat(ClientPeer.of(at("::1", 3), null)).isEqualTo(one);
        assertThat(ClientPeer.of(at("::ffff:127.0.0.7", 3), null)).as("IPv4-mapped").isEqualTo(one);
        assertThat(ClientPeer.of(at("127.0.0.2", 1), new Certificate[] {cert("one")}))
                .isEqualTo(ClientPeer.of(at("::1", 1), new Certificate[] {cert("one")}))
                .isNotEqualTo(ClientPeer.of(at("127.0.0.2", 1), new Certificate[] {cert("two")}))
                .isNotEqualTo(one);
    }

    @Test
    void eachCertificateIsAPeerOfItsOwnOnOneHost() throws Exception {
        ClientPeer a = ClientPeer.of(at("10.0.0.5", 1), new Certificate[] {cert("one")});
        assertThat(a).isEqualTo(ClientPeer.of(at("10.0.0.5", 2), new Certificate[] {cert("one")}));
        assertThat(a).isNotEqualTo(ClientPeer.of(at("10.0.0.5", 1), new Certificate[] {cert("two")}));
        assertThat(a).isNotEqualTo(ClientPeer.of(at("10.0.0.5", 1), null));
        assertThat(ClientPeer.of(null, null).host()).as("not an IP socket").isEqualTo("local");
    }
}
