package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.proto.shm.CallLayout;
import io.machxp.proto.shm.ShmLayout;
import io.machxp.proto.threads.OwnThreads;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The process keeps one call channel per task, with one busy flag per call slot in it. A task
 * that ended (terminated by this process, or by another client without this process being told)
 * may still have ThreadClients that call through its channel, so the kernel must not give its
 * call slots to another task of the live process: the stale call and the new task's call would
 * share the slot, the kernel take the second post as the first's cancel, and the new task's
 * waiting lock never be answered (review shmfixb A). Before, ThreadSlots gave an ended task's
 * threads' slots to the process's next tasks.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class EndedTaskCallSlotsTest {
    /** Tasks made after the end: the end's drain runs on a thread of its own, so a slot given again shows within a few. */
    private static final int LATER_TASKS = 50;

    private static Object field(Object o, String name) throws ReflectiveOperationException {
        Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }

    private static CallChannel.Slot callSlot(ThreadClient t) throws ReflectiveOperationException {
        return (CallChannel.Slot) field(t, "slot");
    }

    private static SharedTaskMemory shared(TaskClient t) throws ReflectiveOperationException {
        return (SharedTaskMemory) field(t, "shared");
    }

    @Test
    void anEndedTasksCallSlotsAreNoOtherTasksWhileItsProcessLives() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4 * 4096L));
                KernelClient client = KernelClient.connect(cluster.kernelTargets().get(0))) {
            TaskClient t1 = client.taskCreate("t1");
            t1.vmMap("obj");
            Set<Integer> ended = new HashSet<>();
            ended.add(shared(t1).taskCalls.index);
            for (int i = 0; i < 3; i++) {
                ThreadClient a = t1.threadCreate();
                assertThat(callSlot(a)).as("a call slot of t1's thread").isNotNull();
                ended.add(callSlot(a).index);
            }
            t1.terminate();

            for (int i = 0; i < LATER_TASKS; i++) {
                TaskClient t2 = client.taskCreate("t2-" + i);
                t2.vmMap("obj");
                CallChannel.Slot own = shared(t2).taskCalls;
                assertThat(own).as("t2-%d's own call slot", i).isNotNull();
                assertThat(ended).as("t2-%d's own call slot %d, one of ended t1's?", i, own.index)
                        .doesNotContain(own.index);
                for (int k = 0; k < 2; k++) {
                    CallChannel.Slot s = callSlot(t2.threadCreate());
                    assertThat(s).isNotNull();
                    assertThat(ended).as("t2-%d's thread's call slot %d, one of ended t1's?", i, s.index)
                            .doesNotContain(s.index);
                }
                t2.terminate();
            }
        }
    }

    @Test
    void aWaitingLockIsAnsweredWhileAnEndedTasksThreadCalls() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4 * 4096L));
                KernelClient client = KernelClient.connect(cluster.kernelTargets().get(0))) {
            TaskClient t1 = client.taskCreate("t1");
            long base1 = t1.vmMap("obj");
            List<ThreadClient> stale = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                stale.add(t1.threadCreate());
            }
            t1.terminate();

            // a thread of a later task in one of t1's threads' call slots if the kernel gives one
            // (it must not); else the last one made, with any of t1's
            ThreadClient waiter = null;
            ThreadClient staleCaller = stale.get(0);
            TaskClient t2 = null;
            long base = 0;
            boolean shared = false;
            for (int i = 0; i < LATER_TASKS && !shared; i++) {
                t2 = client.taskCreate("t2-" + i);
                base = t2.vmMap("obj");
                for (int k = 0; k < 3 && !shared; k++) {
                    waiter = t2.threadCreate();
                    for (ThreadClient a : stale) {
                        if (callSlot(a).index == callSlot(waiter).index) {
                            staleCaller = a;
                            shared = true;
                        }
                    }
                }
            }
            ThreadClient holder = t2.threadCreate();
            holder.lockFutex(base);
            ByteBuffer file = (ByteBuffer) field(shared(t2).calls, "file");
            int at = CallLayout.slot(callSlot(waiter).index);
            ThreadClient w = waiter;
            long b2 = base;
            CompletableFuture<Void> lock = OwnThreads.run("lock-futex", () -> w.lockFutex(b2));
            while (CallLayout.phase((int) ShmLayout.INT.getVolatile(file, at)) != CallLayout.TAKEN) {
                Thread.onSpinWait(); // until the waiter's lock waits in the kernel
            }
            ThreadClient a = staleCaller;
            Throwable staleCall = catchThrowable(() -> a.lockFutex(base1));
            assertThat(staleCall).as("the ended task's thread's call").isInstanceOf(MachxpException.class);
            holder.unlockFutex(base);
            try {
                lock.get(60, TimeUnit.SECONDS); // detects a hang only: answered at once when the slot is its own
            } catch (TimeoutException hung) {
                throw new AssertionError("the waiting lock of t2's thread was never answered (its call slot "
                        + callSlot(waiter).index + " shared with ended t1's thread: " + shared + "; slot phase "
                        + CallLayout.phase((int) ShmLayout.INT.getVolatile(file, at)) + ")", hung);
            }
        }
    }
}
