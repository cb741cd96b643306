package io.machxp.conform;

import static org.awaitility.Awaitility.await;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * The set-up of the tests of the kit's stalls: a pager with a short lease and no grace period to
 * wait out, and the kit stalling under one of its kernels (its keepalive timer cannot send for the
 * kernel while the case holds the kernel's monitor).
 */
final class KitStalls {
    private KitStalls() {}

    /** A pager named {@code name} with lease {@code lease}, started fresh (no grace to wait out). */
    static Pager pager(String name, Duration lease) throws Exception {
        return Pager.start(new PagerConfig(name, "127.0.0.1", 0, PagerConfig.DEFAULT_PAGE_SIZE,
                PagerConfig.defaultObjects()).withLease(lease).withFreshStart(true));
    }

    /** The kit stalls under {@code k}: it sends nothing for it until {@code until} holds (at most 60 s). */
    static void stallUnder(FakeKernel k, Callable<Boolean> until) {
        synchronized (k) {
            await().atMost(Duration.ofSeconds(60)).until(until);
        }
    }
}
