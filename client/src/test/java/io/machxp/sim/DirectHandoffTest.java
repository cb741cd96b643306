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
 * The direct handoff (xp-spec 14) in virtual time: the holder releases the futex to the pager as
 * usual and sends a copy of the release, with the futex's page, straight to the waiting kernel,
 * which is served from it before the pager's grant (reserved for it) confirms it; a copy lost on
 * the kernel link costs only time, the grant serving the waiter with nothing lost. A read of the
 * futex's page from a third kernel meanwhile withdraws the order and is answered without waiting
 * for the release, whether the withdrawal crosses a copy or comes before the holder's unlock.
 */
class DirectHandoffTest {
    private static final long MS = 1_000_000;
    private final SimCluster cluster = new SimCluster(new SimCluster.Options(1, 100_000, 0, 4096, 20 * MS),
            Map.of("obj", 4096L), (time, kernel, event, tid, detail) -> { });
    private final List<String> messages = new ArrayList<>();
    private long grantArrival = -1;

    DirectHandoffTest() {
        Variants.of("direct").apply(cluster);
        cluster.observe((sent, arrives, from, to, m) -> {
            if (!routine(m).contains("keepalive")) {
                messages.add(from + ">" + to + " " + routine(m));
            }
            if (m instanceof PagerToKernel p && p.hasMemoryObjectFutexGranted()) {
                grantArrival = arrives;
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
    void theWaiterIsServedFromTheHoldersCopyBeforeThePagersGrantConfirmsIt() {
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj");
        SimCalls.Worker b = SimCalls.worker(cluster, "B", "obj");
        Acquired first = lock(a);
        write(a, (byte) 7);
        unlock(a); // cached on A, its page writable there
        messages.clear();

        Acquired second = lock(b);
        long served = cluster.now();
        assertThat(second.ownerDied()).isFalse();
        assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
        assertThat(read(b)).isEqualTo((byte) 7); // no page-in: the page came with the copy
        cluster.runUntil(cluster.now() + MS);
        assertThat(grantArrival).as("the grant confirms it after the waiter was served").isGreaterThan(served);
        assertThat(messages).containsExactly("B>pager memory_object_lock_futex",
                "pager>A memory_object_relinquish_futex+forward_to", "A>B futex_forward+page",
                "A>pager memory_object_futex_released", "pager>B memory_object_futex_granted");
        write(b, (byte) 8);
        unlock(b);
        Acquired third = lock(a); // and back: B's write, made before the grant came, is kept
        assertThat(third.fencingToken()).isGreaterThan(second.fencingToken());
        assertThat(read(a)).isEqualTo((byte) 8);
    }

    @Test
    void aCopyLostOnTheLinkCostsOnlyTimeThePagersGrantServesTheWaiter() {
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj");
        SimCalls.Worker b = SimCalls.worker(cluster, "B", "obj");
        Acquired first = lock(a);
        write(a, (byte) 9);
        unlock(a);
        cluster.filter(new SimCluster.MessageFilter() {
            @Override
            public FutexForward forward(String from, String to, FutexForward m) {
                return null; // the kernel link loses every copy
            }
        });
        messages.clear();

        Acquired second = lock(b);
        assertThat(cluster.now()).as("served by the grant").isEqualTo(grantArrival);
        assertThat(second.ownerDied()).as("nobody died").isFalse();
        assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
        assertThat(read(b)).isEqualTo((byte) 9);
        assertThat(messages).as("the lost copy never arrives").containsExactly("B>pager memory_object_lock_futex",
                "pager>A memory_object_relinquish_futex+forward_to", "A>pager memory_object_futex_released",
                "pager>B memory_object_futex_granted");
    }

    /** A call started now and answered later: its value (or KernelError), once {@code done}. */
    private static final class Pending<T> implements Reply<T> {
        Object value;
        boolean done;

        @Override
        public void complete(T v) {
            value = v;
            done = true;
        }

        @Override
        public void fail(io.machxp.kernel.core.KernelError e) {
            value = e;
            done = true;
        }
    }

    /** Runs the simulation until the call is answered, for at most 100 ms of virtual time. */
    private Object until(Pending<?> call) {
        long limit = cluster.now() + 100 * MS;
        while (!call.done && cluster.nextEventTime() >= 0 && cluster.nextEventTime() <= limit && cluster.step()) {
            // the simulation runs until the answer comes
        }
        assertThat(call.done).as("answered within 100ms").isTrue();
        return call.value;
    }

    @Test
    void aReadOfThePageThatCrossesTheCopyWithdrawsTheOrderLateAndGetsTheNewHoldersWrite() {
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj");
        SimCalls.Worker b = SimCalls.worker(cluster, "B", "obj");
        SimCalls.Worker c = SimCalls.worker(cluster, "C", "obj");
        lock(a);
        write(a, (byte) 7);
        unlock(a); // cached on A, its page writable there
        messages.clear();

        // B's lock orders A to forward (A has it at +200us and releases with a copy at once); C's
        // read reaches the pager at +250us, while the page is gated: the withdrawal it sends A
        // crosses A's release and copy.
        long t0 = cluster.now();
        Pending<Acquired> bLock = new Pending<>();
        b.core().vmLockFutex(b.task(), b.tid(), b.base(), -1, bLock);
        Pending<byte[]> cRead = new Pending<>();
        cluster.at(t0 + 150_000, () -> c.core().vmRead(c.task(), c.base() + 8, 1, cRead));
        assertThat(until(bLock)).isInstanceOf(Acquired.class);
        assertThat(messages).contains("A>B futex_forward+page");
        write(b, (byte) 8); // B writes under the copy, before the pager's grant
        assertThat(((byte[]) until(cRead))[0]).as("C reads B's write: the page was taken from B").isEqualTo((byte) 8);
        assertThat(messages).as("the order withdrawn after the copy went").containsSubsequence(
                "pager>A memory_object_relinquish_futex+forward_to", "A>B futex_forward+page",
                "pager>A memory_object_relinquish_futex");
        unlock(b);
        lock(a);
        assertThat(read(a)).as("nothing B wrote is lost").isEqualTo((byte) 8);
        assertThat(read(c)).isEqualTo((byte) 8);
    }

    @Test
    void aReadWhileTheHolderOwnsTheFutexIsAnsweredAtOnceAndTheHolderSendsNoCopyAfter() {
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj");
        SimCalls.Worker b = SimCalls.worker(cluster, "B", "obj");
        SimCalls.Worker c = SimCalls.worker(cluster, "C", "obj");
        lock(a);
        write(a, (byte) 7);
        Pending<Acquired> bLock = new Pending<>();
        b.core().vmLockFutex(b.task(), b.tid(), b.base(), -1, bLock);
        cluster.runUntil(cluster.now() + MS); // A has the order; its owner still holds the futex
        messages.clear();

        Pending<byte[]> cRead = new Pending<>();
        c.core().vmRead(c.task(), c.base() + 8, 1, cRead);
        assertThat(((byte[]) until(cRead))[0]).as("answered while A's owner holds the futex").isEqualTo((byte) 7);
        assertThat(bLock.done).isFalse();
        write(a, (byte) 9); // A takes the page back to write it: the order is void there by now
        unlock(a);
        assertThat(until(bLock)).isInstanceOf(Acquired.class);
        assertThat(messages).as("no copy after the withdrawal").noneMatch(m -> m.startsWith("A>B futex_forward"));
        assertThat(read(b)).isEqualTo((byte) 9);
        unlock(b);
        assertThat(read(c)).isEqualTo((byte) 9);
    }
}
