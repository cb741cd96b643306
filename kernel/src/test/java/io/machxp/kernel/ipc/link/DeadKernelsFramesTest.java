package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.LinkKeepalive;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review F5 of the renewal: once a kernel is declared dead here, frames read from its admitted
 * connection no longer reach the core (the death closes that connection too, not only the link
 * dialled to it). The core is a direct executor here, so what reaches it is recorded at once.
 */
class DeadKernelsFramesTest {
    private final EventLoopGroup group = new DefaultEventLoopGroup(1);
    private final List<String> core = new ArrayList<>();
    private final IpcLinks links = new IpcLinks(1, 60_000, group, Runnable::run, new LinkListener() {
        @Override
        public void frame(int from, int session, LinkFrame frame) {
            core.add("frame from " + from);
        }

        @Override
        public void kernelDied(int kernel) {
            core.add("died " + kernel);
        }
    });

    @AfterEach
    void stop() {
        links.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void framesOfAKernelDeclaredDeadDoNotReachTheCore() {
        EmbeddedChannel in = new EmbeddedChannel();
        assertThat(links.admissions.admit(2, 42L, 0, in)).isEqualTo(0);
        LinkFrame f = LinkFrame.newBuilder().setKeepalive(LinkKeepalive.getDefaultInstance()).build();
        links.admissions.deliver(2, 0, in, List.of(f));
        links.deaths.died(2, "test: its link broke");
        links.admissions.deliver(2, 0, in, List.of(f)); // read after the death, on its still open connection
        assertThat(core).containsExactly("frame from 2", "died 2");
        assertThat(in.isOpen()).as("its connection closed with its death").isFalse();
    }
}
