package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review 2 N7: a renewal decided in session 0 whose core task runs only after the pager session
 * was lost and rejoined (leave and rejoin, queued or run before it) leaves the fresh session
 * alone: no extra session, no renewal counted. The core is a queue the test runs by hand.
 */
class RenewAfterARejoinTest {
    private final EventLoopGroup group = new DefaultEventLoopGroup(1);
    private final Queue<Runnable> core = new ArrayDeque<>();
    private final IpcLinks links = LoneLinks.of(1, group, core::add);

    @AfterEach
    void stop() {
        links.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void aRenewalQueuedBehindALeaveAndRejoinKeepsTheRejoinedSession() {
        links.renew("test: refused as dead");
        links.leave();
        links.rejoin();
        assertThat(links.session()).isEqualTo(1);
        while (!core.isEmpty()) {
            core.poll().run();
        }
        assertThat(links.session()).as("the rejoined session, not one more").isEqualTo(1);
        assertThat(links.renewals()).isZero();
        assertThat(links.renewing).as("a later renewal may go").isFalse();
    }
}
