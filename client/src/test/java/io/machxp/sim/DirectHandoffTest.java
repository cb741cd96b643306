package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import io.machxp.proto.xp.FutexForward;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.variant.Variants;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The direct handoff (xp-spec 13) in virtual time: the holder hands a futex and its page straight
 * to the waiting kernel in four messages, and a forward lost on the kernel link is cancelled and
 * the futex taken back the usual way, with nothing lost and the token still growing.
 */
class DirectHandoffTest {
    private static final long MS = 1_000_000;
    private final SimCluster cluster = new SimCluster(new SimCluster.Options(1, 100_000, 0, 4096, 20 * MS),
            Map.of("obj", 4096L), (time, kernel, event, tid, detail) -> { });
    private final List<String> messages = new ArrayList<>();

    DirectHandoffTest() {
        Variants.of("direct").apply(cluster);
        cluster.observe((sent, arrives, from, to, m) -> {
            if (!routine(m).contains("keepalive")) {
                messages.add(from + ">" + to + " " + routine(m));
            }
        });
    }

    private static String routine(com.google.protobuf.Message m) {
        if (m instanceof FutexForward f) {
            return "futex_forward" + (f.getReleased().getPagesCount() > 0 ? "+page" : "");
        }
        if (m instanceof PagerToKernel p) {
            return p.getRoutineCase().name().toLowerCase()
                    + (p.hasMemoryObjectRelinquishFutex() && p.getMemoryObjectRelinquishFutex().getForwardTo() != 0
                    ? "+forward_to" : "");
        }
        return ((KernelToPager) m).getRoutineCase().name().toLowerCase();
    }

    private Acquired lock(SimCalls.Worker w) {
        return (Acquired) SimCalls.<Acquired>await(cluster, r -> w.core().vmLockFutex(w.task(), w.tid(), w.base(), -1, r));
    }

    private void unlock(SimCalls.Worker w) {
        SimCalls.<Void>await(cluster, (Reply<Void> r) -> w.core().vmUnlockFutex(w.task(), w.tid(), w.base(), r));
    }

    private void write(SimCalls.Worker w, byte value) {
        SimCalls.<Void>await(cluster, (Reply<Void> r) -> w.core().vmWrite(w.task(), w.base() + 8, new byte[] {value}, r));
    }

    private byte read(SimCalls.Worker w) {
        return ((byte[]) SimCalls.<byte[]>await(cluster, r -> w.core().vmRead(w.task(), w.base() + 8, 1, r)))[0];
    }

    @Test
    void theHolderHandsTheFutexAndItsPageStraightToTheWaiter() {
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj");
        SimCalls.Worker b = SimCalls.worker(cluster, "B", "obj");
        Acquired first = lock(a);
        write(a, (byte) 7);
        unlock(a); // cached on A, its page writable there
        messages.clear();

        Acquired second = lock(b);
        assertThat(second.ownerDied()).isFalse();
        assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
        assertThat(read(b)).isEqualTo((byte) 7); // no page-in: the page came with the futex
        cluster.runUntil(cluster.now() + MS); // the confirmation, off the waiter's path
        assertThat(messages).containsExactly("B>pager memory_object_lock_futex",
                "pager>A memory_object_relinquish_futex+forward_to", "A>B futex_forward+page",
                "B>pager memory_object_futex_forwarded");
    }

    @Test
    void aForwardLostOnTheLinkIsCancelledAndTheFutexComesBackTheUsualWay() {
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj");
        SimCalls.Worker b = SimCalls.worker(cluster, "B", "obj");
        Acquired first = lock(a);
        write(a, (byte) 9);
        unlock(a);
        cluster.filter(new SimCluster.MessageFilter() {
            @Override
            public KernelToPager toPager(String kernel, KernelToPager m) {
                return m;
            }

            @Override
            public PagerToKernel toKernel(String kernel, PagerToKernel m) {
                return m;
            }

            @Override
            public FutexForward forward(String from, String to, FutexForward m) {
                return null; // the kernel link loses every forward
            }
        });
        messages.clear();

        long asked = cluster.now();
        Acquired second = lock(b);
        assertThat(cluster.now() - asked).as("served once the pager gave up on the forward (10 ms)")
                .isGreaterThan(10 * MS).isLessThan(12 * MS);
        assertThat(second.ownerDied()).as("nobody died: the holder kept what it forwarded").isFalse();
        assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
        assertThat(read(b)).isEqualTo((byte) 9);
        assertThat(messages).contains("pager>B memory_object_relinquish_futex", "B>pager memory_object_futex_forwarded",
                "pager>A memory_object_relinquish_futex", "A>pager memory_object_futex_released",
                "pager>B memory_object_futex_granted");
    }
}
