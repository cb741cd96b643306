package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectSynchronize;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PagerToKernel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Priority inheritance across kernels as the holder sees it (xp-spec 8.4, 8.6), probes that go
 * nowhere (8.9), and a synchronize of an object id never initialized (3.5, 6.9), by a kernel
 * written from xp.proto and xp-spec alone. Each step waits for the pager's answer to a keepalive,
 * which follows everything the pager sent because of what came before it.
 */
class OutsideKernelPriorityProbeTest {
    private Pager pager;

    @BeforeEach
    void start() throws Exception {
        pager = Pager.start(PagerConfig.loopback(Map.of("obj", 16L * 4096)).withLease(Duration.ZERO));
    }

    @AfterEach
    void stop() {
        pager.close();
    }

    private static KernelToPager lock(int priority, boolean update) {
        return KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder().setObjectId(1)
                .setOffset(8).setPriority(priority).setUpdate(update)).build();
    }

    /** What the holder was asked since the last barrier: the priorities of its relinquishes. */
    private static List<Integer> asked(ProbeKernel holder) throws InterruptedException {
        return holder.barrier().stream().map(m -> m.getMemoryObjectRelinquishFutex().getPriority()).toList();
    }

    /**
     * The holder is asked again whenever the top priority waiting elsewhere changes, up or down,
     * and never when it does not; when the last waiter leaves after an ask above 0, it is asked
     * with 0 (deboost).
     */
    @Test
    void theHolderIsAskedAgainExactlyWhenTheTopWaitingPriorityChanges() throws Exception {
        try (ProbeKernel holder = ProbeKernel.welcomed(pager.target(), "holder");
                ProbeKernel a = ProbeKernel.welcomed(pager.target(), "a");
                ProbeKernel b = ProbeKernel.welcomed(pager.target(), "b")) {
            holder.send(ProbeKernel.lock(8));
            long token = holder.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                    .getFencingToken();
            a.send(lock(5, false));
            a.barrier();
            assertThat(asked(holder)).containsExactly(5);
            b.send(lock(3, false));
            b.barrier();
            assertThat(asked(holder)).as("3 is below the top").isEmpty();
            b.send(lock(9, true));
            b.barrier();
            assertThat(asked(holder)).containsExactly(9);
            b.send(lock(9, true));
            b.barrier();
            assertThat(asked(holder)).as("the same priority again").isEmpty();
            b.send(KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder()
                    .setObjectId(1)).build());
            b.barrier();
            assertThat(asked(holder)).as("b left: a's 5 is the top").containsExactly(5);
            a.send(lock(0, true));
            a.barrier();
            assertThat(asked(holder)).as("down to 0").containsExactly(0);
            a.send(lock(4, true));
            a.barrier();
            assertThat(asked(holder)).containsExactly(4);
            a.send(KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder()
                    .setObjectId(1)).build());
            a.barrier();
            assertThat(asked(holder)).as("the last waiter left after an ask at 4: deboost").containsExactly(0);

            holder.send(KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                    .setObjectId(1).setOffset(8).setFencingToken(token)).build());
            holder.barrier();
            assertThat(pager.holderOf("obj", 8)).isNull();
        }
    }

    /**
     * 8.9: a probe is passed only to a kernel that holds the futex and is not the sender; one
     * about a free futex, or the sender's own, is dropped. 6.9: a synchronize of an object id the
     * session never initialized is answered at once, with an error, for the id and range asked.
     */
    @Test
    void probesThatGoNowhereAreDroppedAndASynchronizeOfAnUnknownIdIsAnswered() throws Exception {
        try (ProbeKernel holder = ProbeKernel.welcomed(pager.target(), "holder");
                ProbeKernel other = ProbeKernel.welcomed(pager.target(), "other")) {
            KernelToPager probe = KernelToPager.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe
                    .newBuilder().setObjectId(1).setOffset(8).setInitiator(7).setWait(1)).build();
            other.send(probe);
            other.barrier();
            holder.send(ProbeKernel.lock(8));
            holder.await(PagerToKernel::hasMemoryObjectFutexGranted);
            holder.send(probe);
            assertThat(holder.barrier()).as("its own futex").isEmpty();
            assertThat(other.barrier()).as("a free futex, then one it does not hold").isEmpty();
            other.send(ProbeKernel.lock(8)); // a kernel probes for a futex it waits for (8.9, O3-5)
            holder.await(PagerToKernel::hasMemoryObjectRelinquishFutex);
            other.send(probe);
            other.barrier();
            assertThat(holder.barrier()).hasSize(1).allMatch(PagerToKernel::hasMemoryObjectFutexProbe);

            other.send(KernelToPager.newBuilder().setMemoryObjectSynchronize(MemoryObjectSynchronize.newBuilder()
                    .setObjectId(42).setOffset(4096).setLength(8192)).build());
            var done = other.await(x -> true).getMemoryObjectSynchronizeCompleted();
            assertThat(done.getObjectId()).isEqualTo(42);
            assertThat(done.getOffset()).isEqualTo(4096);
            assertThat(done.getLength()).isEqualTo(8192);
            assertThat(done.getError()).isNotEmpty();
        }
    }
}
