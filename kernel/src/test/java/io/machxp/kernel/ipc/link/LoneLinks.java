package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.link.LinkFrame;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Test fixture: the links of one kernel whose core hears nothing (a listener that ignores frames
 * and deaths), with a lease of a minute, so that nothing times out while a test drives the links
 * step by step on {@code core} (a queue run by hand, or a direct executor); on a loop of its own.
 * <pre>
 *  new LoneLinks(self, core) -> the links, not listening, dialling nobody
 *  probeOf(kernel)           -> a probe of a kernel dead here, as its chain makes one now
 *  close()                   -> the links closed, the loop shut down
 * </pre>
 */
final class LoneLinks implements AutoCloseable {
    static final long LEASE_MS = 60_000;

    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    final IpcLinks links;

    LoneLinks(int self, Executor core) {
        links = of(self, group, core);
    }

    /** Links of kernel {@code self} on {@code group}, as above. */
    static IpcLinks of(int self, EventLoopGroup group, Executor core) {
        return new IpcLinks(self, LEASE_MS, group, core, new LinkListener() {
            @Override
            public void frame(int from, int session, LinkFrame frame) {}

            @Override
            public void kernelDied(int kernel) {}
        });
    }

    /** A probe of {@code kernel}, which must be dead here and probed, in this session on its chain now. */
    LinkPeer probeOf(int kernel) {
        LinkPeer p = new LinkPeer(kernel, true);
        p.probeSession = links.session();
        p.probeChain = links.probes.chain(kernel);
        assertThat(p.probeChain).as("kernel %d is probed", kernel).isNotNull();
        return p;
    }

    @Override
    public void close() {
        links.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
