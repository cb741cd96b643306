package io.machxp.pager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.proto.transport.TlsFiles;
import io.machxp.proto.transport.Transport;
import io.machxp.proto.transport.TransportException;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pager checks its transport before it binds: plaintext only on loopback unless allowed. */
class PagerTransportTest {
    private static PagerConfig on(String bindHost) {
        return new PagerConfig("p", bindHost, 0, PagerConfig.DEFAULT_PAGE_SIZE, PagerConfig.defaultObjects());
    }

    /** Listening on every address without TLS files is refused with the sentence that says what to do. */
    @Test
    void plaintextOnEveryAddressIsRefused() {
        assertThatThrownBy(() -> Pager.start(on("0.0.0.0")))
                .isInstanceOf(TransportException.class)
                .hasMessageStartingWith("pager p would listen on 0.0.0.0 without TLS")
                .hasMessageContaining("--tls-cert, --tls-key and --tls-ca").hasMessageContaining("--plaintext");
    }

    /** --plaintext allows it; loopback needs nothing. */
    @Test
    void explicitPlaintextOrLoopbackStarts() throws IOException {
        try (Pager pager = Pager.start(on("0.0.0.0").withTransport(Transport.PLAINTEXT))) {
            assertThat(pager.port()).isPositive();
        }
        try (Pager pager = Pager.start(on("localhost"))) {
            assertThat(pager.port()).isPositive();
        }
    }

    /** TLS files that are not there fail the start, naming the file. */
    @Test
    void missingTlsFilesAreNamed(@TempDir Path dir) {
        assertThatThrownBy(() -> Pager.start(on("127.0.0.1").withTransport(
                Transport.mutualTls(TlsFiles.inDirectory(dir, "pager")))))
                .isInstanceOf(TransportException.class)
                .hasMessageStartingWith("pager p: the TLS certificate " + dir.resolve("pager.pem") + " does not exist");
    }
}
