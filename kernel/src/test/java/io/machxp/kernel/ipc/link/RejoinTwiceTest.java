package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.link.LinkFrame;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review late3 A3: a kernel declared dead that rejoins as session 1 and again as session 2 before
 * the core ran the first revival. The first revival read the latest session when it ran and told
 * the core "alive in session 2"; session 1's death, queued after it, then left the core with the
 * kernel dead while its links had it alive. Each revival now carries the session that rejoined
 * and is skipped if that session died first. The core thread is a queue run by hand here.
 *
 * <p>Review late4 B1: a live kernel that rejoins is declared dead at the rejoin, which closes its
 * old dialled link; that close (LinkOut.channelInactive -> diedOut of the old peer, still in
 * {@code peers} until the revival) seen before the core ran the revival declared the kernel dead
 * once more, closed its new link and skipped the revival. A peer its kernel died on is ended now.
 */
class RejoinTwiceTest {
    private static final long INCARNATION = 42;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Queue<Runnable> core = new ArrayDeque<>();
    private final List<String> heard = new ArrayList<>();
    private final IpcLinks links = new IpcLinks(3, 60_000, group, core::add, new LinkListener() {
        @Override
        public void frame(int from, int session, LinkFrame frame) {}

        @Override
        public void kernelDied(int kernel) {
            heard.add("died " + kernel);
        }

        @Override
        public void revived(int kernel, int session) {
            heard.add("revived " + kernel + " in session " + session);
        }
    });

    @AfterEach
    void stop() {
        links.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void aKernelThatRejoinsTwiceBeforeTheCoreRunsIsAliveInItsLastSession() throws Exception {
        InetSocketAddress self = links.listen(new InetSocketAddress("127.0.0.1", 0));
        links.connect(new KernelDirectory(Map.of(1, new InetSocketAddress("127.0.0.1", 1), 3, self)));
        assertThat(links.admissions.admit(1, INCARNATION, 0, new EmbeddedChannel())).isEqualTo(0);
        links.deaths.died(1, "test: its link broke");
        assertThat(links.admissions.admit(1, INCARNATION, 1, new EmbeddedChannel())).as("rejoins as session 1")
                .isNotEqualTo(LinkAdmissions.REFUSED);
        assertThat(links.admissions.admit(1, INCARNATION, 2, new EmbeddedChannel())).as("and as session 2")
                .isNotEqualTo(LinkAdmissions.REFUSED);
        for (Runnable r = core.poll(); r != null; r = core.poll()) {
            r.run();
        }
        assertThat(heard).containsExactly("died 1", "died 1", "revived 1 in session 2");
        assertThat(links.dead(1)).isFalse();
    }

    @Test
    void theCloseOfTheOldDialledLinkSeenBeforeTheRevivalIsNoNewDeath() throws Exception {
        InetSocketAddress self = links.listen(new InetSocketAddress("127.0.0.1", 0));
        links.connect(new KernelDirectory(Map.of(1, new InetSocketAddress("127.0.0.1", 1), 3, self)));
        assertThat(links.admissions.admit(1, INCARNATION, 0, new EmbeddedChannel())).isEqualTo(0);
        LinkPeer old = links.peers.get(1);
        assertThat(old).isNotNull();
        EmbeddedChannel rejoined = new EmbeddedChannel();
        assertThat(links.admissions.admit(1, INCARNATION, 1, rejoined)).as("alive, rejoins as session 1")
                .isNotEqualTo(LinkAdmissions.REFUSED);
        links.deaths.diedOut(old, "its link closed"); // LinkOut.channelInactive of the link the rejoin's death closed
        for (Runnable r = core.poll(); r != null; r = core.poll()) {
            r.run();
        }
        assertThat(heard).containsExactly("died 1", "revived 1 in session 1");
        assertThat(links.dead(1)).isFalse();
        assertThat(links.admissions.inbound(1)).as("its new link is still its link here").isSameAs(rejoined);
        assertThat(rejoined.isOpen()).isTrue();
    }
}
