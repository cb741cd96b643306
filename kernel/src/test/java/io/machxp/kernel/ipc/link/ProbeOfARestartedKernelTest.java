package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.LinkRefused;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Review F7 of the renewal: LinkRefused names the refuser's incarnation, so a kernel probing a
 * kernel it declared dead stops once another process answers for that id (the one declared dead
 * is gone; a restarted kernel takes a new id), instead of probing it every lease until
 * MAX_PROBES. The same process answering "not dead here" keeps the chain (it may declare this
 * kernel dead later). Kernel 1's address listens nowhere; answers are given by hand.
 */
class ProbeOfARestartedKernelTest {
    private static final long INCARNATION = 42;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final IpcLinks links = new IpcLinks(3, 60_000, group, Runnable::run, new LinkListener() {
        @Override
        public void frame(int from, int session, LinkFrame frame) {}

        @Override
        public void kernelDied(int kernel) {}
    });

    @BeforeEach
    void start() throws InterruptedException {
        InetSocketAddress self = links.listen(new InetSocketAddress("127.0.0.1", 0));
        links.connect(new KernelDirectory(Map.of(1, new InetSocketAddress("127.0.0.1", 1), 3, self)));
        assertThat(links.admissions.admit(1, INCARNATION, 0, new EmbeddedChannel())).as("kernel 1's hello").isEqualTo(0);
        links.deaths.died(1, "test: its link broke");
    }

    @AfterEach
    void stop() {
        links.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private LinkPeer probeOf1() {
        LinkPeer p = new LinkPeer(1, true);
        p.probeSession = links.session();
        p.probeChain = links.probes.chain(1);
        assertThat(p.probeChain).as("kernel 1 is probed").isNotNull();
        return p;
    }

    @Test
    void anotherProcessAnsweringForTheIdEndsTheProbes() {
        links.probes.refusedThere(probeOf1(),
                LinkRefused.newBuilder().setDeadHere(false).setIncarnation(INCARNATION + 1).build());
        assertThat(links.probes.chain(1)).as("no more probes of kernel 1").isNull();
        assertThat(links.renewals()).isZero();
    }

    @Test
    void theSameProcessNotDeadThereKeepsTheProbes() {
        LinkPeer p = probeOf1();
        links.probes.refusedThere(p, LinkRefused.newBuilder().setDeadHere(false).setIncarnation(INCARNATION).build());
        assertThat(links.probes.chain(1)).as("kernel 1 still probed").isSameAs(p.probeChain);
        assertThat(links.renewals()).isZero();
    }
}
