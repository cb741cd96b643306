package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import org.junit.jupiter.api.Test;

/**
 * The "down" address of the CLI tests ({@link RefusingPort}): refused, and no server can take it while
 * the test holds it. A port found free and given back (a server on port 0, closed) fails the second:
 * any server may bind it next, as another test's pager did under ManyPagersCliTest in CI.
 */
class RefusingPortTest {

    @Test
    void aConnectionIsRefused() throws Exception {
        try (RefusingPort down = RefusingPort.open(); Socket client = new Socket()) {
            assertThat(down.target()).isEqualTo("127.0.0.1:" + down.port());
            assertThatThrownBy(() -> client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), down.port())))
                    .isInstanceOf(ConnectException.class).hasMessageContaining("Connection refused");
        }
    }

    /** Servers as gRPC's (an NIO channel) and the JDK's bind with SO_REUSEADDR on Linux: neither gets the port. */
    @Test
    void noServerCanListenThereWhileItIsHeld() throws Exception {
        try (RefusingPort down = RefusingPort.open()) {
            InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), down.port());
            try (ServerSocketChannel netty = ServerSocketChannel.open()) {
                assertThatThrownBy(() -> netty.bind(at)).isInstanceOf(BindException.class);
            }
            try (ServerSocket plain = new ServerSocket()) {
                plain.setReuseAddress(true);
                assertThatThrownBy(() -> plain.bind(at)).isInstanceOf(BindException.class);
            }
            try (ServerSocket any = new ServerSocket()) { // every address of the host, the port included
                assertThatThrownBy(() -> any.bind(new InetSocketAddress(down.port()))).isInstanceOf(BindException.class);
            }
        }
    }
}
