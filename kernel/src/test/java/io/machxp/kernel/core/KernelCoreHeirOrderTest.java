package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.xp.KernelToPager;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The order in which one death hands on several futexes: Linux's exit wakes the top waiter of each
 * futex the dead thread owned by walking its pi_state_list from the head, and a futex's pi_state
 * joins that list at the head when its first waiter blocks on the owner, or when the owner takes
 * it with waiters behind; equal SCHED_FIFO heirs then run in wake order (measured on Linux with
 * scenarios/death-two-equal-heirs-order*.yaml). machxp handed them on in its futex cache's
 * address order until 2026-12-08 (review rv59, LOW-2): each test fails on that code.
 */
class KernelCoreHeirOrderTest {
    private static final long MS = 1_000_000L;

    /** Records the order in which the locks are answered, by the name given. */
    private static final class Order {
        final List<String> answered = new ArrayList<>();

        Reply<Acquired> lock(String name) {
            return new Reply<>() {
                @Override
                public void complete(Acquired value) {
                    answered.add(name + (value.ownerDied() ? " EOWNERDEAD" : " ok"));
                }

                @Override
                public void fail(KernelError error) {
                    answered.add(name + " " + error.errno());
                }
            };
        }
    }

    @Test
    void equalHeirsOfOneDeathRunNewestWaitFirst() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread wa = k.thread(20);
        MachThread wb = k.thread(20);
        long a = k.base;
        long b = k.base + 64;
        k.acquireFromPager(owner, a);
        k.acquireFromPager(owner, b);
        Order order = new Order();
        k.core.vmLockFutex(k.task.id, wa.tid, a, -1, order.lock("Wa"));
        k.env.advance(10 * MS);
        k.core.vmLockFutex(k.task.id, wb.tid, b, -1, order.lock("Wb"));
        k.env.advance(10 * MS);
        k.terminate(owner).value();
        k.env.advance(10 * MS);
        assertThat(order.answered).as("b's wait began last: its heir is woken, and runs, first")
                .containsExactly("Wb EOWNERDEAD", "Wa EOWNERDEAD");
    }

    @Test
    void theWaitsOrderNotTheOwnersLockOrderDecides() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread wa = k.thread(20);
        MachThread wb = k.thread(20);
        long a = k.base + 64; // the higher address this time: neither the cache's order nor the robust list's (b locked last)
        long b = k.base;
        k.acquireFromPager(owner, a);
        k.acquireFromPager(owner, b);
        Order order = new Order();
        k.core.vmLockFutex(k.task.id, wb.tid, b, -1, order.lock("Wb"));
        k.env.advance(10 * MS);
        k.core.vmLockFutex(k.task.id, wa.tid, a, -1, order.lock("Wa"));
        k.env.advance(10 * MS);
        k.terminate(owner).value();
        k.env.advance(10 * MS);
        assertThat(order.answered).containsExactly("Wa EOWNERDEAD", "Wb EOWNERDEAD");
    }

    /**
     * D takes b from X's unlock with Wb still waiting behind it: b's wait is D's from then on,
     * newer than a's, although b's first waiter (D itself) blocked before a's.
     */
    @Test
    void aFutexTheOwnerWasHandedWithWaitersBehindCountsFromTheHandoff() {
        CoreFixture k = new CoreFixture(true);
        MachThread x = k.thread(5);
        MachThread d = k.thread(25);
        MachThread wa = k.thread(20);
        MachThread wb = k.thread(20);
        long a = k.base;
        long b = k.base + 64;
        k.acquireFromPager(x, b);
        k.acquireFromPager(d, a);
        Order order = new Order();
        List<String> dGotB = new ArrayList<>();
        k.core.vmLockFutex(k.task.id, d.tid, b, -1, new Reply<>() {
            @Override
            public void complete(Acquired value) {
                dGotB.add("ok");
            }

            @Override
            public void fail(KernelError error) {
                dGotB.add(error.errno().name());
            }
        });
        k.env.advance(10 * MS);
        k.core.vmLockFutex(k.task.id, wb.tid, b, -1, order.lock("Wb"));
        k.env.advance(10 * MS);
        k.core.vmLockFutex(k.task.id, wa.tid, a, -1, order.lock("Wa"));
        k.env.advance(10 * MS);
        k.unlock(x, b).value();
        k.env.advance(MS);
        assertThat(dGotB).containsExactly("ok");
        k.terminate(d).value();
        k.env.advance(10 * MS);
        assertThat(order.answered).containsExactly("Wb EOWNERDEAD", "Wa EOWNERDEAD");
    }

    /** A waiter's timeout that leaves a futex without waiters ends its wait: the next waiter's counts anew. */
    @Test
    void aFutexWhoseWaitersAllLeftCountsFromItsNextWaiter() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread t = k.thread(20);
        MachThread wa = k.thread(20);
        MachThread wb = k.thread(20);
        long a = k.base;
        long b = k.base + 64;
        k.acquireFromPager(owner, a);
        k.acquireFromPager(owner, b);
        Order order = new Order();
        k.core.vmLockFutex(k.task.id, t.tid, b, 10 * MS, order.lock("T"));
        k.env.advance(20 * MS);
        assertThat(order.answered).containsExactly("T ETIMEDOUT");
        k.core.vmLockFutex(k.task.id, wa.tid, a, -1, order.lock("Wa"));
        k.env.advance(10 * MS);
        k.core.vmLockFutex(k.task.id, wb.tid, b, -1, order.lock("Wb"));
        k.env.advance(10 * MS);
        k.terminate(owner).value();
        k.env.advance(10 * MS);
        assertThat(order.answered).containsExactly("T ETIMEDOUT", "Wb EOWNERDEAD", "Wa EOWNERDEAD");
    }

    /**
     * Waiters on another kernel: the dead owner's futexes go back to the pager newest wait first
     * (one stream, so the pager's grants reach the waiters' kernel in that order); a waiter
     * elsewhere that left (the pager's relinquish of 0) ends that wait, and the next one counts
     * anew.
     */
    @Test
    void futexesWaitedForElsewhereAreReleasedNewestWaitFirst() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        long a = k.base;
        long b = k.base + 2 * 4096; // a page of its own: released with its page
        k.acquireFromPager(owner, a);
        k.acquireFromPager(owner, b);
        k.relinquish(b - k.base, 20); // a waiter elsewhere...
        k.relinquish(b - k.base, 0); // ...that left
        k.relinquish(a - k.base, 20);
        k.relinquish(b - k.base, 20);
        k.env.drain();
        k.terminate(owner).value();
        k.env.advance(MS);
        List<Long> released = k.env.drain().stream().filter(KernelToPager::hasMemoryObjectFutexReleased)
                .map(m -> m.getMemoryObjectFutexReleased().getOffset()).toList();
        assertThat(released).containsExactly(b - k.base, a - k.base);
    }

    /** A trylock that found the futex held made no lasting wait (Linux frees its pi_state before it returns). */
    @Test
    void aBusyTrylockStartsNoWait() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread t = k.thread(20);
        MachThread wa = k.thread(20);
        MachThread wb = k.thread(20);
        long a = k.base + 64;
        long b = k.base;
        k.acquireFromPager(owner, a);
        k.acquireFromPager(owner, b);
        Order order = new Order();
        k.core.vmLockFutex(k.task.id, wb.tid, b, -1, order.lock("Wb"));
        k.env.advance(10 * MS);
        k.core.vmLockFutex(k.task.id, wa.tid, a, -1, order.lock("Wa"));
        k.env.advance(10 * MS);
        assertThat(k.trylock(t, b).value()).as("busy").isNull();
        k.terminate(owner).value();
        k.env.advance(10 * MS);
        assertThat(order.answered).containsExactly("Wa EOWNERDEAD", "Wb EOWNERDEAD");
    }
}
