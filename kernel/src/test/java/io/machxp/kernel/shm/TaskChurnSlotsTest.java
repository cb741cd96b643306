package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.shm.ShmLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Task churn with the real capacity and bounds (docs/limits.md, "Kernel-file slots"): a
 * long-lived process that makes and ends one task (one thread) per request keeps each ended task's
 * two slots until it exits, so it gets the fast path for {@link ThreadSlots#PER_PROCESS} / 2 tasks
 * and its later tasks make their calls over gRPC; another process is not touched by that until
 * four such processes hold every slot; a churning process's slots come back to everybody once it
 * is dead. (Slots never go to another task of a live process: ThreadSlots, review shmfixb A.)
 */
class TaskChurnSlotsTest {
    private static final int CAPACITY = SharedMemory.THREAD_SLOTS;
    private final ByteBuffer kernel = ByteBuffer.allocateDirect((int) ShmLayout.kernelFileSize(CAPACITY))
            .order(ByteOrder.nativeOrder());
    private final Set<Long> dead = new HashSet<>();
    private final ThreadSlots slots = new ThreadSlots(kernel, CAPACITY, r -> { }, pid -> !dead.contains(pid));
    private long task = 1;
    private int tid = 1;

    private void end(long taskId) {
        ThreadSlots.Revoked r = slots.revoking(taskId, 0);
        for (int s : r.all()) {
            INT.getAndBitwiseOr(kernel, ShmLayout.threadSlot(s), ShmLayout.REVOKED);
        }
        slots.ended(r);
    }

    /** One request of process {@code pid}: a task with one thread, ended; whether both got a slot. */
    private boolean request(long pid) {
        long t = task++;
        boolean fast = slots.attach(t, pid) >= 0 & slots.threadSlot(t, tid++) >= 0;
        end(t);
        return fast;
    }

    @Test
    void aLiveProcessChurningTasksKeepsTheFastPathForItsBoundOnly() {
        int fast = 0;
        for (int i = 0; i < 3 * ThreadSlots.PER_PROCESS; i++) {
            fast += request(4242) ? 1 : 0;
        }
        assertThat(fast).as("requests with both slots").isEqualTo(ThreadSlots.PER_PROCESS / 2);
        assertThat(slots.given()).isEqualTo(ThreadSlots.PER_PROCESS);
        assertThat(request(77)).as("another process").isTrue();
    }

    @Test
    void fourChurningProcessesTakeEverySlotUntilOneIsDead() {
        for (long pid = 1; pid <= 4; pid++) {
            for (int i = 0; i < ThreadSlots.PER_PROCESS; i++) {
                request(pid);
            }
        }
        assertThat(slots.given()).isEqualTo(CAPACITY);
        assertThat(slots.attach(task++, 99)).as("a fifth process, while the four live").isEqualTo(-1);
        dead.add(2L);
        int fast = 0;
        for (int i = 0; i < ThreadSlots.PER_PROCESS; i++) {
            fast += request(99) ? 1 : 0;
        }
        assertThat(fast).as("the dead one's slots, to the fifth").isEqualTo(ThreadSlots.PER_PROCESS / 2);
    }
}
