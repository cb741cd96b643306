package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.shm.SharedMemory;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A client that creates and terminates a thread per request goes through more threads than the
 * session's kernel file has slots ({@link SharedMemory#THREAD_SLOTS}). An ended thread's slot is
 * given to its task's next thread (ThreadSlots), so a later task of another client still locks on
 * the fast path, and the new thread in a slot given again does too; a stale ThreadClient of the slot's ended thread
 * can neither lock nor unlock there (its TID is not the slot's). Before, a slot was never given
 * again: after the churn every later thread of every client of that kernel made its calls over
 * gRPC for the rest of the session (review shm #4).
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class ThreadChurnSharedSlotsTest {
    @Test
    void threadChurnLeavesTheFastPathToLaterTasks() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4 * 4096L));
                KernelClient churner = KernelClient.connect(cluster.kernelTargets().get(0));
                KernelClient other = KernelClient.connect(cluster.kernelTargets().get(0))) {
            TaskClient server = churner.taskCreate("server");
            long base = server.vmMap("obj");
            ThreadClient stale = server.threadCreate();
            assertThat(stale.sharedThread()).as("a slot in the kernel file").isNotNull();
            stale.lockFutex(base);
            stale.unlockFutex(base); // cached on the kernel, free: the fast path's
            stale.terminate();

            for (int i = 0; i < SharedMemory.THREAD_SLOTS + 16; i++) {
                server.threadCreate().terminate(); // one short-lived thread per request
            }
            ThreadClient holder = server.threadCreate();
            assertThat(holder.sharedThread()).as("a slot after the churn").isNotNull();
            assertThat(holder.sharedThread().ctl).as("the ended threads' slot, given again to the task's next thread")
                    .isEqualTo(stale.sharedThread().ctl);

            long calls = churner.callsMade();
            holder.lockFutex(base);
            assertThat(stale.sharedThread().tryLock(base)).as("the ended thread's client, on a held futex").isFalse();
            assertThat(stale.sharedThread().tryUnlock(base)).as("nor can it unlock the new thread's lock").isFalse();
            holder.unlockFutex(base);
            assertThat(stale.sharedThread().tryLock(base)).as("a free one: its TID is not the slot's").isFalse();
            holder.lockFutex(base);
            holder.unlockFutex(base);
            assertThat(churner.callsMade() - calls).as("the thread in the slot given again: the fast path")
                    .isZero();

            TaskClient fresh = other.taskCreate("fresh");
            long freshBase = fresh.vmMap("obj");
            ThreadClient t = fresh.threadCreate();
            t.lockFutex(freshBase);
            t.unlockFutex(freshBase);
            long before = other.callsMade();
            for (int i = 0; i < 100; i++) {
                t.lockFutex(freshBase);
                t.unlockFutex(freshBase);
            }
            assertThat(other.callsMade() - before).as("another client's later task: uncontended, on the fast path")
                    .isZero();
        }
    }
}
