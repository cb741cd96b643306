package io.machxp.kernel.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.LocalThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.threads.OwnThreads;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.KernelToPager.RoutineCase;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Futex grants and relinquishes from {@link RawPager} that break XP's futex rules, against a real
 * kernel over gRPC: a grant is taken once, and only for a lock the kernel asked for; a relinquish
 * of a futex the kernel does not hold releases nothing.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RawPagerFutexProbeTest extends RawPagerKernelTest {

    private RawPager.Stream s() {
        return pager.stream(0);
    }

    private void grant(long offset, long token) {
        s().send(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                .setObjectId(objectId).setOffset(offset).setFencingToken(token)).build());
    }

    private void relinquish(long offset) {
        s().send(PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex.newBuilder()
                .setObjectId(objectId).setOffset(offset)).build());
    }

    private void awaitSent(RoutineCase routine, long count) {
        await().atMost(Duration.ofSeconds(10)).until(() -> s().count(routine) >= count);
    }

    /** A lock that waits for the pager's grant, on another thread. */
    private CompletableFuture<AcquirePath> lockAsync(LocalThread t, long address) {
        return OwnThreads.supply("lock-futex", () -> t.lockFutex(address));
    }

    /** A second grant of a futex the kernel holds changes nothing: not its token, not its owner. */
    @Test
    void aSecondGrantIsDropped() throws Exception {
        LocalThread a = task.threadCreate();
        CompletableFuture<AcquirePath> lock = lockAsync(a, base);
        awaitSent(RoutineCase.MEMORY_OBJECT_LOCK_FUTEX, 1);
        grant(0, 10);
        assertThat(lock.get(10, TimeUnit.SECONDS)).isNotNull();
        grant(0, 11);
        relinquish(0); // with a thread owning it: released at its unlock, under the token it holds
        a.unlockFutex(base);
        awaitSent(RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED, 1);
        assertThat(s().received.stream().filter(KernelToPager::hasMemoryObjectFutexReleased)
                .map(m -> m.getMemoryObjectFutexReleased().getFencingToken())).containsExactly(10L);
        assertThat(a.fencingToken(base)).isEqualTo(10);
    }

    /**
     * Tokens grow strictly with every grant of a futex (xp-spec 8): a grant under a token not above
     * one the kernel held the futex under before is stale or forged, and a task that fences storage
     * writes with it could have its writes taken after a later owner's.
     */
    @Test
    void aGrantWhoseTokenGoesBackwardsIsNotGivenToATask() throws Exception {
        LocalThread a = task.threadCreate();
        CompletableFuture<AcquirePath> first = lockAsync(a, base);
        awaitSent(RoutineCase.MEMORY_OBJECT_LOCK_FUTEX, 1);
        grant(0, 10);
        first.get(10, TimeUnit.SECONDS);
        a.unlockFutex(base);
        relinquish(0);
        awaitSent(RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED, 1);

        CompletableFuture<AcquirePath> second = lockAsync(a, base);
        awaitSent(RoutineCase.MEMORY_OBJECT_LOCK_FUTEX, 2);
        grant(0, 3);
        grant(0, 12);
        second.get(10, TimeUnit.SECONDS);
        assertThat(a.fencingToken(base)).isEqualTo(12);
    }

    /** A relinquish of a futex the kernel asked for but does not hold yet releases nothing; the grant still counts. */
    @Test
    void aRelinquishOfAFutexNotHeldReleasesNothing() throws Exception {
        LocalThread a = task.threadCreate();
        CompletableFuture<AcquirePath> lock = lockAsync(a, base + 8);
        awaitSent(RoutineCase.MEMORY_OBJECT_LOCK_FUTEX, 1);
        relinquish(8);
        relinquish(16); // never asked for
        grant(8, 4);
        assertThat(lock.get(10, TimeUnit.SECONDS)).isNotNull();
        assertThat(a.fencingToken(base + 8)).isEqualTo(4);
        a.unlockFutex(base + 8);
        // the relinquish before the grant was no order to give this grant back
        assertThat(s().count(RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED)).isZero();
    }
}
