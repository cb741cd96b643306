package io.machxp.proto.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plaintext policy (loopback only unless allowed) and the errors for unusable TLS files. */
class TransportTest {

    /** Loopback: localhost, 127.0.0.0/8 and ::1, with or without brackets; nothing else, and never a wildcard. */
    @Test
    void loopbackHosts() {
        for (String host : new String[] {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LocalHost"}) {
            assertThat(Transport.isLoopbackHost(host)).as(host).isTrue();
        }
        for (String host : new String[] {"0.0.0.0", "::", "192.0.2.1", "10.0.0.1", "2001:db8::1", "", " ", "[]"}) {
            assertThat(Transport.isLoopbackHost(host)).as("'%s'", host).isFalse();
        }
        assertThat(Transport.isLoopbackHost(null)).isFalse();
    }

    /** The host of every form of target gRPC takes. */
    @Test
    void hostOfTarget() {
        assertThat(Transport.hostOfTarget("127.0.0.1:7070")).isEqualTo("127.0.0.1");
        assertThat(Transport.hostOfTarget("[::1]:7070")).isEqualTo("[::1]");
        assertThat(Transport.hostOfTarget("localhost")).isEqualTo("localhost");
        assertThat(Transport.hostOfTarget("dns:///localhost:7070")).isEqualTo("localhost");
        assertThat(Transport.hostOfTarget("dns://8.8.8.8/pager.example:7070")).isEqualTo("pager.example");
        assertThat(Transport.hostOfTarget("192.0.2.1:7070")).isEqualTo("192.0.2.1");
        assertThat(Transport.hostOfTarget("2001:db8::1")).isEqualTo("2001:db8::1");
    }

    /** Without TLS files a server may bind only loopback and a client may only connect to it; the error says what to do. */
    @Test
    void plaintextOffLoopbackIsRefusedWithASentenceThatSaysWhatToDo() {
        Transport t = Transport.LOOPBACK_PLAINTEXT;
        assertThat(t.serverCredentials("127.0.0.1", "pager p")).isInstanceOf(InsecureServerCredentials.class);
        assertThat(t.channelCredentials("localhost:7070", "kernel A")).isInstanceOf(InsecureChannelCredentials.class);
        assertThatThrownBy(() -> t.serverCredentials("0.0.0.0", "pager p"))
                .isInstanceOf(TransportException.class)
                .hasMessageStartingWith("pager p would listen on 0.0.0.0 without TLS")
                .hasMessageContaining("--tls-cert, --tls-key and --tls-ca").hasMessageContaining("--plaintext");
        assertThatThrownBy(() -> t.channelCredentials("192.0.2.1:7070", "kernel A"))
                .isInstanceOf(TransportException.class)
                .hasMessageStartingWith("kernel A would connect to 192.0.2.1:7070 without TLS")
                .hasMessageContaining("machxp certs DIR").hasMessageContaining("--plaintext");
    }

    /** --plaintext allows any address. */
    @Test
    void explicitPlaintextAllowsAnyAddress() {
        assertThat(Transport.PLAINTEXT.serverCredentials("0.0.0.0", "pager p")).isInstanceOf(InsecureServerCredentials.class);
        assertThat(Transport.PLAINTEXT.channelCredentials("192.0.2.1:7070", "kernel A"))
                .isInstanceOf(InsecureChannelCredentials.class);
    }

    /** TLS files and --plaintext exclude each other. */
    @Test
    void tlsAndPlaintextTogetherAreRefused(@TempDir Path dir) {
        assertThatThrownBy(() -> new Transport(TlsFiles.inDirectory(dir, "kernel"), true))
                .isInstanceOf(TransportException.class).hasMessageContaining("exclude each other");
    }

    /** A missing file, or a file that holds no certificate, is one sentence naming the file, prefixed by who. */
    @Test
    void unusableFilesAreNamed(@TempDir Path dir) throws Exception {
        Transport missing = Transport.mutualTls(TlsFiles.inDirectory(dir, "kernel"));
        assertThatThrownBy(() -> missing.serverCredentials("127.0.0.1", "kernel A"))
                .isInstanceOf(TransportException.class)
                .hasMessage("kernel A: the TLS certificate " + dir.resolve("kernel.pem")
                        + " does not exist; give the right path, or make a set with machxp certs DIR");
        Files.writeString(dir.resolve("kernel.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        assertThatThrownBy(() -> missing.channelCredentials("127.0.0.1:1", "kernel A"))
                .isInstanceOf(TransportException.class)
                .hasMessageContaining(dir.resolve("kernel.pem").toString())
                .hasMessageContaining("holds no PEM certificate");
        Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
        assertThatThrownBy(() -> TlsFiles.inDirectory(dir, "kernel").trustManagers())
                .isInstanceOf(TransportException.class)
                .hasMessageContaining(dir.resolve("ca.pem").toString())
                .hasMessageContaining("not a valid PEM certificate");
    }
}
