package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.link.LinkRefused;
import java.net.InetSocketAddress;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review F2 of the renewal, step by step: kernel 3 declared kernels 1 and 2 dead and probes both;
 * both refuse it as silent. The first refusal renews its session; the second, an answer to a probe
 * of the session it renewed away from, is stale and renews nothing. The core is a direct executor
 * (the renewal runs at once); the others' addresses listen nowhere and are never reached.
 */
class StaleRefusalTest {
    private final LoneLinks lone = new LoneLinks(3, Runnable::run);
    private final IpcLinks links = lone.links;

    @AfterEach
    void stop() {
        lone.close();
    }

    @Test
    void aRefusalAboutAnEarlierSessionRenewsNothing() throws InterruptedException {
        InetSocketAddress nowhere = new InetSocketAddress("127.0.0.1", 1);
        InetSocketAddress self = links.listen(new InetSocketAddress("127.0.0.1", 0));
        links.connect(new KernelDirectory(Map.of(1, nowhere, 2, nowhere, 3, self)));
        links.deaths.died(1, "test: nothing heard from it for a lease");
        links.deaths.died(2, "test: nothing heard from it for a lease");
        LinkPeer to1 = lone.probeOf(1);
        LinkPeer to2 = lone.probeOf(2);
        LinkRefused silent = LinkRefused.newBuilder().setDeadHere(true).setSilent(true).build();

        links.probes.refusedThere(to1, silent);
        assertThat(links.renewals()).isEqualTo(1);
        assertThat(links.session()).isEqualTo(1);

        links.probes.refusedThere(to2, silent); // late: about session 0
        assertThat(links.renewals()).as("one renewal for one cut-off").isEqualTo(1);
        assertThat(links.session()).isEqualTo(1);
    }

    /** Review F4: a refusal about the current session right after a renewal is held back (backoff), not obeyed. */
    @Test
    void aKernelRefusedAgainRightAfterARenewalWaits() throws InterruptedException {
        InetSocketAddress nowhere = new InetSocketAddress("127.0.0.1", 1);
        InetSocketAddress self = links.listen(new InetSocketAddress("127.0.0.1", 0));
        links.connect(new KernelDirectory(Map.of(1, nowhere, 3, self)));
        LinkRefused silent = LinkRefused.newBuilder().setDeadHere(true).setSilent(true).build();
        links.deaths.died(1, "test: its link broke");
        links.probes.refusedThere(lone.probeOf(1), silent);
        assertThat(links.renewals()).isEqualTo(1);
        links.deaths.died(1, "test: its link broke again");
        links.probes.refusedThere(lone.probeOf(1), silent); // about session 1, within a lease of the renewal
        assertThat(links.renewals()).as("held back: at most one renewal per backoff wait").isEqualTo(1);
        assertThat(links.session()).isEqualTo(1);
    }
}
