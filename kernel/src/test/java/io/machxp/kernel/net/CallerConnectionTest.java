package io.machxp.kernel.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.proto.transport.ClientPeer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The unit a client's share of the kernel's port names is counted by (review F6): each gRPC
 * connection has one identity, the same for all its calls, and another connection another; both
 * belong to one peer, their host's (review gi F4).
 */
class CallerConnectionTest {
    @Test
    void eachConnectionIsOneCallerAndAnotherConnectionAnother() throws Exception {
        List<Object> seen;
        try (WhoServer server = new WhoServer(CallerConnection::current)) {
            ManagedChannel one = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
            ManagedChannel two = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
            try {
                for (ManagedChannel c : List.of(one, one, two, two)) {
                    WhoServer.call(c);
                }
            } finally {
                one.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                two.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            seen = server.seen();
        }
        assertThat(seen).hasSize(4).doesNotContainNull();
        assertThat(seen.get(1)).as("one connection, one caller").isSameAs(seen.get(0));
        assertThat(seen.get(3)).isSameAs(seen.get(2));
        assertThat(seen.get(2)).as("another connection, another caller").isNotSameAs(seen.get(0));
        assertThat(CallerConnection.current()).as("outside a call").isNull();
        // review gi F4: the connections of one host (and certificate: none here) are one peer
        assertThat(((io.machxp.kernel.ipc.NameOwner) seen.get(0)).peer())
                .isEqualTo(((io.machxp.kernel.ipc.NameOwner) seen.get(2)).peer())
                .isEqualTo(new ClientPeer("loopback", ""));
    }
}
