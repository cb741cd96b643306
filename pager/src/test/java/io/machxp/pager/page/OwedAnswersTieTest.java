package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A replica restored from a snapshot ends a session that owes several answers asked at one instant
 * with the same sentence as the replica that applied the log: ties are broken by an order a restore
 * keeps (late7 review O1; written as a probe by the reviewer).
 */
class OwedAnswersTieTest {
    private static final long LEASE = 1_000_000_000L;
    private static final long DEADLINE = 3 * LEASE;

    private XpKernels core() {
        return new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 3).withAnswerDeadline(DEADLINE), 0,
                Map.of("obj", 64L * XpKernels.PAGE));
    }

    @Test
    void tiesAmongTriesAskedAtOneInstantAreBrokenAlikeAfterARestore() {
        XpKernels x = core();
        long h = x.kernel(1, "H");
        long k = x.kernel(2, "K");
        int n = 16;
        for (int i = 0; i < n; i++) {
            x.lockFutex(h, 4L * 64 * i);
        }
        for (int i = n - 1; i >= 0; i--) { // tries asked at one instant, highest offset first
            x.xp(k, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                    .setObjectId(XpKernels.OBJ).setOffset(4L * 64 * i).setTry(true)));
        }
        XpKernels restored = core();
        restored.pager.restore(x.pager.snapshot());
        x.advanceHeard(DEADLINE + LEASE / 2, LEASE / 4, h, k);
        restored.advanceHeard(DEADLINE + LEASE / 2, LEASE / 4, h, k);
        assertThat(x.ended.get(h)).isNotNull();
        assertThat(restored.ended.get(h)).isEqualTo(x.ended.get(h));
    }

    @Test
    void tiesAmongPageRequestsAskedAtOneInstantAreBrokenAlikeAfterARestore() {
        XpKernels x = core();
        long w = x.kernel(1, "W");
        long r = x.kernel(2, "R");
        int n = 16;
        for (int i = n - 1; i >= 0; i--) {
            x.write(w, (long) i * XpKernels.PAGE); // records made highest page first
        }
        x.take(w);
        for (int i = 0; i < n; i++) {
            x.read(r, (long) i * XpKernels.PAGE); // W owes a lock_request for each, asked at one instant
        }
        XpKernels restored = core();
        restored.pager.restore(x.pager.snapshot());
        x.advanceHeard(DEADLINE + LEASE / 2, LEASE / 4, w, r);
        restored.advanceHeard(DEADLINE + LEASE / 2, LEASE / 4, w, r);
        assertThat(x.ended.get(w)).isNotNull();
        assertThat(restored.ended.get(w)).isEqualTo(x.ended.get(w));
    }
}
