package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.link.LinkFrame;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review 2 N4: a connection counts in the IPC session of this kernel in which it was admitted,
 * and {@link LinkAdmissions#admit} says which, read under the lock of the admission itself (before, the
 * inbound handler read the session after admit returned, so a leave and rejoin in between gave
 * an old connection the new session). Its close seen after a leave and rejoin declares nobody
 * dead in the new session. Driven directly: the core is a direct executor, no links are dialled.
 */
class AdmittedSessionTest {
    private final EventLoopGroup group = new DefaultEventLoopGroup(1);
    private final List<String> core = new ArrayList<>();
    private final IpcLinks links = new IpcLinks(1, 60_000, group, Runnable::run, new LinkListener() {
        @Override
        public void frame(int from, int session, LinkFrame frame) {}

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
    void admitSaysTheSessionOfTheAdmission() {
        assertThat(links.admissions.admit(2, 42L, 0, new EmbeddedChannel())).isEqualTo(0);
        links.leave();
        links.rejoin();
        assertThat(links.admissions.admit(2, 42L, 0, new EmbeddedChannel())).as("admitted after the rejoin").isEqualTo(1);
        assertThat(links.admissions.admit(1, 7L, 0, new EmbeddedChannel())).as("its own id").isEqualTo(LinkAdmissions.REFUSED);
    }

    @Test
    void aConnectionOfAnEarlierSessionClosingAfterTheRejoinDeclaresNobodyDead() {
        int at = links.admissions.admit(2, 42L, 0, new EmbeddedChannel());
        links.leave();
        links.rejoin();
        assertThat(links.session()).isEqualTo(at + 1);
        links.deaths.diedIn(2, 0, at, "its link closed");
        assertThat(links.dead(2)).as("closed in session " + at + ", seen in " + links.session()).isFalse();
        assertThat(core).isEmpty();
        links.deaths.diedIn(2, 0, links.session(), "its link closed");
        assertThat(links.dead(2)).as("a connection of the current session").isTrue();
        assertThat(core).containsExactly("died 2");
    }
}
