package io.machxp.kernel.ipc.link;

import io.machxp.proto.link.LinkFrame;
import io.netty.channel.EventLoopGroup;
import java.util.concurrent.Executor;

/**
 * Test fixture: the links of one kernel whose core hears nothing (a listener that ignores frames
 * and deaths), with a lease of a minute, so that nothing times out while a test drives the links
 * step by step on {@code core} (a queue run by hand, or a direct executor).
 */
final class LoneLinks {
    static final long LEASE_MS = 60_000;

    private LoneLinks() {}

    static IpcLinks of(int self, EventLoopGroup group, Executor core) {
        return new IpcLinks(self, LEASE_MS, group, core, new LinkListener() {
            @Override
            public void frame(int from, LinkFrame frame) {}

            @Override
            public void kernelDied(int kernel) {}
        });
    }
}
