package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.link.LinkRefused;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Queue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review 2 N5: the renewal backoff counts a renewal only once it happened. Kernel 3, refused as
 * silent by kernel 1, decides to renew, but its pager session is lost and rejoined before the
 * renewal's core task runs, which drops it. Refused as silent again in the rejoined session, it
 * renews at once: the dropped renewal did not start a backoff wait of two leases (before, it did,
 * and the refusal was held back). The core is a queue the test runs by hand; kernel 1's address
 * listens nowhere.
 */
class RenewDroppedTest {
    private final Queue<Runnable> core = new ArrayDeque<>();
    private final LoneLinks lone = new LoneLinks(3, core::add);
    private final IpcLinks links = lone.links;

    @AfterEach
    void stop() {
        lone.close();
    }

    private void runCore() {
        while (!core.isEmpty()) {
            core.poll().run();
        }
    }

    @Test
    void aRenewalDroppedBeforeItHappenedDoesNotHoldTheNextBack() throws InterruptedException {
        InetSocketAddress nowhere = new InetSocketAddress("127.0.0.1", 1);
        InetSocketAddress self = links.listen(new InetSocketAddress("127.0.0.1", 0));
        links.connect(new KernelDirectory(Map.of(1, nowhere, 3, self)));
        LinkRefused silent = LinkRefused.newBuilder().setDeadHere(true).setSilent(true).build();
        links.deaths.died(1, "test: nothing heard from it for a lease");
        links.probes.refusedThere(lone.probeOf(1), silent); // decided: its core task waits in the queue
        links.leave(); // the pager session is lost and rejoined first
        links.rejoin();
        runCore();
        assertThat(links.renewals()).as("dropped: the rejoined session is the fresh one").isZero();
        assertThat(links.session()).isEqualTo(1);

        links.deaths.died(1, "test: nothing heard from it for a lease, again");
        links.probes.refusedThere(lone.probeOf(1), silent);
        runCore();
        assertThat(links.renewals()).as("the first renewal that happens goes at once").isEqualTo(1);
        assertThat(links.session()).isEqualTo(2);
    }
}
