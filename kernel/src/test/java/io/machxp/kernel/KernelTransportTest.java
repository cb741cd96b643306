package io.machxp.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.machxp.kernel.core.CoreOptions;
import io.machxp.proto.transport.Transport;
import io.machxp.proto.transport.TransportException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A kernel checks its transport at startup, before it connects or binds: plaintext only on loopback
 * unless allowed. 192.0.2.1 is TEST-NET-1 (RFC 5737): never a real pager, never loopback.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class KernelTransportTest {
    private static final String FAR_PAGER = "192.0.2.1:7070";
    /** Long enough that a kernel which tried to connect first would fail with another message. */
    private static final Duration PATIENT = Duration.ofSeconds(20);

    private static KernelConfig config(String pager, String bind, Duration connectTimeout) {
        return new KernelConfig("T", pager, bind, 0, connectTimeout, CoreOptions.DEFAULT);
    }

    /** A pager that is not on loopback, no TLS files: refused at once, with the sentence that says what to do. */
    @Test
    void aPlaintextPagerOffLoopbackIsRefusedBeforeConnecting() {
        assertThatThrownBy(() -> Kernel.start(config(FAR_PAGER, "127.0.0.1", PATIENT)))
                .isInstanceOf(TransportException.class)
                .hasMessage("kernel T would connect to " + FAR_PAGER + " without TLS, which is allowed only to a loopback"
                        + " address: give --tls-cert, --tls-key and --tls-ca (machxp certs DIR makes them), or"
                        + " --plaintext to connect unauthenticated");
    }

    /** Serving clients on every address without TLS files is refused, before the kernel connects to its pager. */
    @Test
    void aPlaintextTaskInterfaceOffLoopbackIsRefused() {
        assertThatThrownBy(() -> Kernel.start(config("127.0.0.1:1", "0.0.0.0", PATIENT)))
                .isInstanceOf(TransportException.class)
                .hasMessageStartingWith("kernel T would listen on 0.0.0.0 without TLS")
                .hasMessageContaining("--plaintext");
    }

    /** With --plaintext the same kernel gets past the check and tries the pager (which is not there). */
    @Test
    void explicitPlaintextAllowsAPagerOffLoopback() {
        Throwable e = catchThrowable(() -> Kernel.start(config(FAR_PAGER, "127.0.0.1", Duration.ofSeconds(1))
                .withTransport(Transport.PLAINTEXT)).close());
        assertThat(e).as("no pager answers at TEST-NET").isInstanceOf(IOException.class)
                .hasMessageContaining(FAR_PAGER).hasMessageNotContaining("without TLS");
    }
}
