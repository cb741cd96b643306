package io.machxp.conform;

import io.grpc.Status;
import io.machxp.conform.kernel.FakePager;
import io.machxp.proto.threads.OwnThreads;
import io.machxp.proto.xp.PagerToKernel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A planted bug that shows once, as an intermittent one does (review flaky3, F4): the target stalls
 * on one kernel and declares it dead early. On the first stream whose kernel name ends with
 * {@code suffix} (the first run of a case only; a run again names its kernels anew and gets a new
 * stream), it leaves every kernel_keepalive unanswered from the welcome on and, 0.7 of the lease
 * after the welcome, ends the stream with the lease's death (FAILED_PRECONDITION / ETIMEDOUT, spec
 * 4.5), though the kernel kept sending every quarter lease and its hello is younger than the lease:
 * a breach of 4.1. The pager behind sees a broken stream. Every later stream goes through untouched.
 * <p>
 * The kit must FAIL it: the kit itself sent on time, so it has no evidence of its own stall and
 * must not run the case again (a second run would pass, and hide the bug).
 */
final class DropsAKernelOnce implements XpProxy.Plant {
    private final String suffix;
    private final AtomicBoolean shown = new AtomicBoolean();
    private volatile XpProxy.Link victim;

    DropsAKernelOnce(String suffix) {
        this.suffix = suffix;
    }

    @Override
    public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
        if (m.hasPagerWelcome() && link.name != null && link.name.endsWith(suffix) && shown.compareAndSet(false, true)) {
            victim = link;
            long lease = m.getPagerWelcome().getLeaseMillis();
            CompletableFuture.delayedExecutor(lease * 7 / 10, TimeUnit.MILLISECONDS,
                    OwnThreads.named("cut-kernel-link")).execute(() -> link.cut(
                    FakePager.error(Status.Code.FAILED_PRECONDITION, "ETIMEDOUT", "the plant declared this kernel "
                            + "dead 0.7 of a lease after its welcome, its keepalives unanswered")));
            return m;
        }
        return link == victim && m.hasPagerKeepalive() ? null : m;
    }
}
