package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.ipc.NameOwner;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.task.Errno;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Review kreview HIGH-1: one client took all 65,536 task slots of a kernel (and could take all
 * thread numbers, and 65,536 x 4,096 mappings, past any heap), and kept them after it
 * disconnected: every other client's task_create was EAGAIN until the kernel restarted. Now the
 * tasks clients create, their threads and their mappings count to the client's peer, which holds
 * at most an eighth of the clients' pool (7/8 of the kernel's bound) and no more than is free;
 * the last eighth is in-process tasks' ({@link ClientShares}). Small bounds keep it fast.
 */
class ClientSharesTest {
    private final CoreFixture k = new CoreFixture(true);

    /** A gRPC connection of a peer (host and certificate), as the kernel's server gives each call. */
    private record Connection(int number, String peer) implements NameOwner {}

    /** Bound 65: a pool of 57, a peer's share 7, a reserve of 8. */
    private static final int BOUND = 65;
    private static final int POOL = BOUND - BOUND / 8;
    private static final int SHARE = POOL / 8;

    private Answer<MachTask> task(Object owner) {
        Answer<MachTask> a = new Answer<>();
        k.core.taskCreate("t", owner, a);
        return a;
    }

    private Answer<MachThread> thread(MachTask task) {
        Answer<MachThread> a = new Answer<>();
        k.core.threadCreate(task.id, a);
        return a;
    }

    private Answer<VmMapping> map(MachTask task) {
        Answer<VmMapping> a = new Answer<>();
        k.core.vmMap(task.id, "obj", a);
        return a;
    }

    private void terminate(MachTask task) {
        Answer<Void> a = new Answer<>();
        k.core.taskTerminate(task.id, "test", a);
        a.value();
    }

    /** Calls {@code call} until it fails (at most {@code most} times); the values, and the failure. */
    private static <T> List<T> until(int most, Supplier<Answer<T>> call, Answer<?>[] failure) {
        List<T> got = new ArrayList<>();
        for (int i = 0; i < most; i++) {
            Answer<T> a = call.get();
            if (a.failed()) {
                failure[0] = a;
                return got;
            }
            got.add(a.value());
        }
        return got;
    }

    @Test
    void aPeersConnectionsTogetherTakeTheirShareOfTasksAndKeepNoneFromOthers() {
        k.core.limitClientShares(BOUND, 1_000, 1_000);
        Answer<?>[] refused = new Answer<?>[1];
        List<MachTask> hog = new ArrayList<>();
        for (int c = 0; c < 4; c++) { // several connections of one host: one share
            int connection = c;
            hog.addAll(until(BOUND, () -> task(new Connection(connection, "hog host")), refused));
        }
        assertThat(hog).hasSize(SHARE);
        KernelError e = refused[0].error();
        assertThat(e.errno()).isEqualTo(Errno.EAGAIN);
        assertThat(e.message()).contains("client peer hog host", "holds 7 tasks", "its share", "an eighth of the 57",
                "TaskWatch");

        assertThat(until(BOUND, () -> task(new Connection(0, "other host")), refused))
                .as("a client of another peer: its whole share beside the hog").hasSize(SHARE);
        terminate(hog.get(0));
        assertThat(task(new Connection(9, "hog host")).value().peer).as("an ended task is its peer's share again")
                .isEqualTo("hog host");

        int remote = 2 * SHARE;
        for (int p = 0; p < 20; p++) { // greedy peers: the pool, never the reserve
            int peer = p;
            remote += until(BOUND, () -> task(new Connection(0, "greedy host " + peer)), refused).size();
        }
        assertThat(remote).isEqualTo(POOL);
        List<MachTask> local = until(BOUND, () -> task(null), refused);
        assertThat(local).as("in-process tasks: the rest of the kernel's bound (the fixture has one)")
                .hasSize(BOUND - 1 - POOL);
        assertThat(refused[0].error().message()).contains("65 tasks, the most it keeps at once");
    }

    @Test
    void aPeersTasksTakeTheirShareOfThreads() {
        k.core.limitClientShares(1_000, BOUND, 1_000);
        Answer<?>[] refused = new Answer<?>[1];
        MachTask a = task(new Connection(1, "hog host")).value();
        MachTask b = task(new Connection(2, "hog host")).value();
        int threads = until(BOUND, () -> thread(a), refused).size() + until(BOUND, () -> thread(b), refused).size();
        assertThat(threads).isEqualTo(SHARE);
        assertThat(refused[0].error().errno()).isEqualTo(Errno.EAGAIN);
        assertThat(refused[0].error().message()).contains("client peer hog host", "holds 7 thread ids (live or resting)", "its share");

        MachTask other = task(new Connection(1, "other host")).value();
        assertThat(until(BOUND, () -> thread(other), refused)).hasSize(SHARE);
        for (int i = 0; i < BOUND - 2 * SHARE; i++) {
            assertThat(k.thread()).as("an in-process task's threads: the rest of the bound").isNotNull();
        }
        assertThat(thread(k.task).failed()).isTrue();

        terminate(a);
        terminate(other);
        k.env.advance(k.core.tasks.tidQuarantine()); // their ids rest, counted to their peers, until then (RestingThreadIdsShareTest)
        MachTask c = task(new Connection(3, "hog host")).value();
        assertThat(until(BOUND, () -> thread(c), refused)).as("an ended task's threads are its peer's share again")
                .hasSize(SHARE);
    }

    @Test
    void aPeersTasksTakeTheirShareOfMappingsAndAllTasksTheKernelsBound() {
        k.core.limitClientShares(1_000, 1_000, BOUND);
        Answer<?>[] refused = new Answer<?>[1];
        MachTask a = task(new Connection(1, "hog host")).value();
        MachTask b = task(new Connection(2, "hog host")).value();
        int maps = until(BOUND, () -> map(a), refused).size() + until(BOUND, () -> map(b), refused).size();
        assertThat(maps).isEqualTo(SHARE);
        assertThat(refused[0].error().errno()).isEqualTo(Errno.EAGAIN);
        assertThat(refused[0].error().message()).contains("client peer hog host", "holds 7 mappings", "its share",
                "map each object once per task");

        assertThat(until(BOUND, () -> map(k.task), refused)).as("in-process tasks: the rest of the kernel's bound "
                + "(the fixture's task has one)").hasSize(BOUND - 1 - SHARE);
        assertThat(refused[0].error().message()).contains("65 mappings, the most it keeps for all tasks together");

        terminate(a);
        MachTask c = task(new Connection(3, "hog host")).value();
        List<VmMapping> again = until(BOUND, () -> map(c), refused);
        // a's 7 are free again, the kernel's only free ones: the peer takes while it holds fewer than are free
        assertThat(again).as("an ended task's mappings are given back").hasSize((SHARE + 1) / 2);
        assertThat(refused[0].error().message()).contains("no more than are still free to them (3)");
    }
}
