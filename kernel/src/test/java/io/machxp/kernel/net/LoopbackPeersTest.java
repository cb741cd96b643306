package io.machxp.kernel.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Attributes;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.kernel.ipc.NameOwner;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Review late3 A2, end to end through gRPC: one local process binding the source addresses
 * 127.0.0.2-5 made four peers, so four shares of the kernel's port names. Every loopback
 * address is now one host ({@link io.machxp.proto.transport.ClientPeer}), so they are one peer.
 */
class LoopbackPeersTest {
    @Test
    void loopbackPlaintextClientsOfOneProcessAreOnePeer() throws Exception {
        WhoServer server = new WhoServer(() -> ((NameOwner) CallerConnection.current()).peer());
        List<ManagedChannel> channels = new ArrayList<>();
        for (int i = 2; i < 6; i++) {
            String source = "127.0.0." + i;
            channels.add(NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", server.port()))
                    .usePlaintext().localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
                        @Override
                        public SocketAddress createSocketAddress(SocketAddress remote, Attributes attrs) {
                            return new InetSocketAddress(source, 0);
                        }
                    }).build());
        }
        try {
            for (ManagedChannel c : channels) {
                WhoServer.call(c);
            }
        } finally {
            for (ManagedChannel c : channels) {
                c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            server.close();
        }
        List<Object> seen = server.seen();
        assertThat(seen).hasSize(4);
        assertThat(new HashSet<>(seen)).as("four loopback connections of one process: one peer (limits.md)").hasSize(1);
    }
}
