package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.ipc.NameOwner;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.Errno;
import org.junit.jupiter.api.Test;

/**
 * Review rv58 LOW-1: an ended thread's number rests (max(2 leases, 10 s)) and counted to nobody, so
 * one peer creating and ending threads fast kept up to rate x rest numbers resting, and with a
 * long lease all of them: every thread_create of the kernel, other peers' and in-process tasks',
 * was EAGAIN. Now a resting number counts to the peer of the task its thread belonged to until its
 * rest is over ({@link ClientShares#threads}): a churning peer meets its share, others do not.
 * Virtual time; small bounds.
 */
class RestingThreadIdsShareTest {
    private final CoreFixture k = new CoreFixture(true);

    private record Connection(int number, String peer) implements NameOwner {}

    /** Bound 65: a pool of 57, a peer's share 7, a reserve of 8. */
    private static final int BOUND = 65;
    private static final int SHARE = (BOUND - BOUND / 8) / 8;

    private MachTask task(String peer) {
        Answer<MachTask> a = new Answer<>();
        k.core.taskCreate("t", new Connection(1, peer), a);
        return a.value();
    }

    private Answer<MachThread> thread(MachTask task) {
        Answer<MachThread> a = new Answer<>();
        k.core.threadCreate(task.id, a);
        return a;
    }

    /** Creates and ends threads of {@code task} until a create is refused (at most {@code most}); how many it made, and the refusal. */
    private int churn(MachTask task, int most, Answer<?>[] refused) {
        for (int i = 0; i < most; i++) {
            Answer<MachThread> a = thread(task);
            if (a.failed()) {
                refused[0] = a;
                return i;
            }
            Answer<Void> end = new Answer<>();
            k.core.threadTerminate(task.id, a.value().tid, end);
            end.value();
        }
        return most;
    }

    @Test
    void aPeersChurnHoldsItsRestingIdsAndOthersStillCreate() {
        k.core.limitClientShares(1_000, BOUND, 1_000);
        long rest = k.core.tasks.tidQuarantine();
        MachTask hog = task("hog host");
        Answer<?>[] refused = new Answer<?>[1];
        assertThat(churn(hog, 1_000, refused)).as("ended threads' resting ids count to the peer: its share, "
                + "not 1,000 (resting ids counted to nobody before)").isEqualTo(SHARE);
        KernelError e = refused[0].error();
        assertThat(e.errno()).isEqualTo(Errno.EAGAIN);
        assertThat(e.message()).contains("client peer hog host", "holds 7 thread ids (live or resting)",
                "rests " + rest / 1_000_000 + " ms", "reuse threads");
        assertThat(k.core.tasks.shares.threads.usedBy("hog host")).isEqualTo(SHARE);
        assertThat(k.core.tasks.livingThreads()).as("none of them lives").isZero();

        MachTask other = task("other host");
        assertThat(churn(other, SHARE, refused)).as("another peer: its whole share").isEqualTo(SHARE);
        for (int i = 0; i < BOUND - 2 * SHARE; i++) {
            assertThat(k.thread()).as("in-process tasks' threads go on").isNotNull();
        }

        k.env.advance(rest - 1);
        assertThat(thread(hog).failed()).as("still resting a nanosecond before the rest is over").isTrue();
        k.env.advance(1);
        assertThat(thread(hog).value()).as("rested: the peer's share again").isNotNull();
        assertThat(k.core.tasks.shares.threads.usedBy("hog host")).isEqualTo(1);
        assertThat(k.core.tasks.shares.threads.usedBy("other host")).as("given back when the rest was over").isZero();
    }

    @Test
    void aTerminatedTasksThreadIdsCountToItsPeerUntilTheyRested() {
        k.core.limitClientShares(1_000, BOUND, 1_000);
        MachTask a = task("hog host");
        for (int i = 0; i < SHARE; i++) {
            thread(a).value();
        }
        Answer<Void> end = new Answer<>();
        k.core.taskTerminate(a.id, "test", end);
        end.value();
        MachTask b = task("hog host");
        assertThat(thread(b).error().errno()).as("its threads' ids rest, counted to the peer").isEqualTo(Errno.EAGAIN);
        k.env.advance(k.core.tasks.tidQuarantine());
        for (int i = 0; i < SHARE; i++) {
            assertThat(thread(b).value()).isNotNull();
        }
        assertThat(k.core.tasks.shares.threads.usedBy("hog host")).isEqualTo(SHARE);
        assertThat(k.core.tasks.shares.threads.used()).as("the fixture's task has no thread; none rests any more")
                .isEqualTo(SHARE);
    }
}
