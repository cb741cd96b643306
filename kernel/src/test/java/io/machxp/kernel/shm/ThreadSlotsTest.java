package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.shm.ShmLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link ThreadSlots}: the slots of a session's kernel file are given again once their thread
 * ended (a task's own once its process is dead), within bounds per task and per process, and the
 * count of slots given never passes the capacity. Before, a slot was never given again: thread
 * churn by one client took the fast path from every later task of the kernel (review shm #4), and
 * the counter ran on past the capacity until it overflowed (#7).
 */
class ThreadSlotsTest {
    private static final int CAPACITY = 8;
    private static final long LIVE = 1001;
    private static final long DIES = 1002;

    private final ByteBuffer kernel = ByteBuffer.allocateDirect((int) ShmLayout.kernelFileSize(CAPACITY))
            .order(ByteOrder.nativeOrder());
    private final Set<Long> dead = new HashSet<>();
    private final List<List<Integer>> released = new ArrayList<>();

    private ThreadSlots slots(int perTask, int perProcess) {
        return new ThreadSlots(kernel, CAPACITY, perTask, perProcess, released::add, pid -> !dead.contains(pid));
    }

    /** What SharedMemory.revoke does, the drain and the end done at once. */
    private void end(ThreadSlots slots, long task, int tid) {
        ThreadSlots.Revoked r = slots.revoking(task, tid);
        for (int s : r.all()) {
            INT.getAndBitwiseOr(kernel, ShmLayout.threadSlot(s), ShmLayout.REVOKED);
        }
        slots.ended(r);
    }

    @Test
    void threadChurnGetsASlotEveryTimeItsTasksOwn() {
        ThreadSlots slots = slots(100, 100);
        assertThat(slots.attach(1, LIVE)).isZero();
        for (int tid = 1; tid <= 10_000; tid++) {
            int slot = slots.threadSlot(1, tid);
            assertThat(slot).as("thread %d: the slot its task's last thread left", tid).isEqualTo(1);
            end(slots, 1, tid);
        }
        assertThat(slots.given()).as("one never-given slot taken by the churn").isEqualTo(2);
        assertThat(slots.attach(2, 2002)).as("another process's task, after the churn").isEqualTo(2);
    }

    @Test
    void aSlotGivenAgainNamesItsNewThreadAndIsNoLongerRevoked() {
        ThreadSlots slots = slots(100, 100);
        slots.attach(1, LIVE);
        List<Integer> first = new ArrayList<>();
        for (int tid = 1; tid < CAPACITY; tid++) {
            first.add(slots.threadSlot(1, tid)); // every fresh slot, in order
        }
        end(slots, 1, 3);
        end(slots, 1, 5);
        assertThat(slots.threadSlot(1, 77)).as("the one freed first").isEqualTo(first.get(2));
        int at = ShmLayout.threadSlot(first.get(2));
        assertThat((int) INT.getVolatile(kernel, at + ShmLayout.SLOT_TID)).isEqualTo(77);
        assertThat((int) INT.getVolatile(kernel, at)).as("REVOKED cleared, no count").isZero();
        assertThat(slots.threadSlot(1, 78)).isEqualTo(first.get(4));
        assertThat(slots.threadSlot(1, 79)).as("none left").isEqualTo(-1);
    }

    @Test
    void afterExhaustionNothingIsGivenAndTheCountDoesNotMove() {
        ThreadSlots slots = slots(100, 100);
        slots.attach(1, LIVE);
        for (int tid = 1; tid < CAPACITY; tid++) {
            slots.threadSlot(1, tid);
        }
        for (int i = 0; i < 1000; i++) {
            assertThat(slots.threadSlot(1, 100 + i)).isEqualTo(-1);
            assertThat(slots.attach(2 + i, LIVE)).isEqualTo(-1);
        }
        assertThat(slots.given()).isEqualTo(CAPACITY);
    }

    @Test
    void oneTaskHoldsAtMostItsBoundAndTheOthersStillGetSlots() {
        ThreadSlots slots = slots(3, 100);
        slots.attach(1, LIVE);
        for (int tid = 1; tid <= 3; tid++) {
            assertThat(slots.threadSlot(1, tid)).isNotNegative();
        }
        assertThat(slots.threadSlot(1, 4)).as("over its bound: gRPC").isEqualTo(-1);
        assertThat(slots.attach(2, LIVE)).isNotNegative();
        assertThat(slots.threadSlot(2, 1)).as("another task").isNotNegative();
        end(slots, 1, 2);
        assertThat(slots.threadSlot(1, 5)).as("one of its threads ended").isNotNegative();
    }

    @Test
    void anEndedTasksOwnSlotIsGivenAgainOnlyOnceItsProcessIsDead() {
        ThreadSlots slots = slots(100, 100);
        int liveOwn = slots.attach(1, LIVE);
        int deadOwn = slots.attach(2, DIES);
        int unknownOwn = slots.attach(3, 0);
        for (int i = 3; i < CAPACITY; i++) {
            assertThat(slots.attach(10 + i, LIVE)).isNotNegative(); // the rest taken
        }
        end(slots, 1, 0);
        end(slots, 2, 0);
        end(slots, 3, 0);
        assertThat(slots.attach(100, LIVE)).as("their processes may still touch them").isEqualTo(-1);

        dead.add(DIES);
        assertThat(slots.attach(101, LIVE)).isEqualTo(deadOwn);
        assertThat(released).as("the page counts its process left, taken back").containsExactly(List.of(deadOwn));
        assertThat(slots.attach(102, LIVE)).as("a live process's, and pid 0's (never seen dead)").isEqualTo(-1);
        assertThat(List.of(liveOwn, unknownOwn)).doesNotContain(deadOwn);
    }

    @Test
    void oneProcessHoldsAtMostItsBoundOfTaskSlots() {
        ThreadSlots slots = slots(100, 2);
        assertThat(slots.attach(1, DIES)).isNotNegative();
        assertThat(slots.attach(2, DIES)).isNotNegative();
        end(slots, 2, 0);
        assertThat(slots.attach(3, DIES)).as("an ended task's slot still counts while the process lives").isEqualTo(-1);
        assertThat(slots.attach(4, LIVE)).as("another process").isNotNegative();
        dead.add(DIES);
        end(slots, 1, 0);
        end(slots, 3, 0); // attached without a slot of its own: it still names the process until it ends
        for (int i = 3; i < CAPACITY; i++) {
            assertThat(slots.attach(i + 10, 2000 + i)).isNotNegative(); // the rest taken: the next claim sweeps
        }
        assertThat(slots.attach(50, 77)).as("the dead process's ended task's slot").isNotNegative();
    }

    @Test
    void anEndedTasksSlotsGoToNoOtherTaskWhileItsProcessLives() {
        ThreadSlots slots = slots(100, 100);
        int own = slots.attach(1, LIVE);
        int a = slots.threadSlot(1, 1);
        int b = slots.threadSlot(1, 2);
        end(slots, 1, 2); // b to task 1's pool
        slots.attach(2, DIES);
        for (int i = 4; i < CAPACITY; i++) {
            assertThat(slots.attach(i + 10, 2000 + i)).isNotNegative(); // the rest taken
        }
        end(slots, 1, 0);
        assertThat(slots.threadSlot(2, 9)).as("another process's task: not while the first lives").isEqualTo(-1);
        assertThat(slots.attach(5, LIVE)).as("a later task of the same process: not either (another channel)")
                .isEqualTo(-1);
        dead.add(LIVE);
        end(slots, 5, 0); // attached without a slot: it names the process until it ends
        List<Integer> given = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            given.add(slots.threadSlot(2, 10 + i));
        }
        assertThat(given).as("once the process is dead: its own, its thread's and its pool's").containsExactlyInAnyOrder(
                own, a, b);
    }

    @Test
    void aThreadEndedAfterItsTaskIsKeptForItsProcessToo() {
        ThreadSlots slots = slots(100, 100);
        slots.attach(1, LIVE);
        int a = slots.threadSlot(1, 1);
        ThreadSlots.Revoked thread = slots.revoking(1, 1); // its drain still under way
        end(slots, 1, 0);
        slots.ended(thread); // the task's end ran first
        assertThat(slots.attach(2, LIVE)).as("a later task's own").isNotEqualTo(a);
        for (int tid = 1; tid < CAPACITY; tid++) {
            assertThat(slots.threadSlot(2, tid)).as("task 2, thread %d", tid).isNotEqualTo(a);
        }
    }

    @Test
    void slotsOfProcessesInAnotherPidNamespaceAreNeverGivenAgain() {
        ThreadSlots slots = slots(100, 100);
        for (long task = 1; task <= 3; task++) {
            assertThat(slots.attach(task, 0)).isNotNegative();
            assertThat(slots.threadSlot(task, (int) task)).isNotNegative();
            end(slots, task, 0);
        }
        dead.add(0L);
        assertThat(slots.attach(10, 0)).as("two left never given").isNotNegative();
        assertThat(slots.attach(11, LIVE)).isNotNegative();
        assertThat(slots.attach(12, 0)).as("pid 0's ended tasks' slots: another process's may use them").isEqualTo(-1);
        assertThat(slots.attach(13, LIVE)).isEqualTo(-1);
    }

    @Test
    void aThreadSlotIsGivenToAThreadOfTheSameTaskFirst() {
        ThreadSlots slots = slots(100, 100);
        slots.attach(1, LIVE);
        slots.attach(2, LIVE);
        int t1 = slots.threadSlot(1, 1);
        slots.threadSlot(2, 1);
        end(slots, 1, 1);
        assertThat(slots.threadSlot(2, 2)).as("task 2: a never-given slot, not task 1's").isNotEqualTo(t1);
        assertThat(slots.threadSlot(1, 2)).as("task 1: its own thread's").isEqualTo(t1);
    }
}
