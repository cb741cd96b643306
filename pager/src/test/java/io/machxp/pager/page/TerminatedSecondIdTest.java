package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.OBJ;
import static io.machxp.pager.page.XpKernels.PAGE;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * Outside review 3, O3-1: a kernel with two ids for one object (spec 5.2) terminates the id the
 * pager names the object by while a relinquish or lock_request under that id is in flight. Before,
 * its answer under the terminated id was refused as "never initialized": the futex stayed with it
 * for good (B waited forever), and the page stayed being flushed until the answer deadline ended
 * A's session. Now answers under the just-terminated id are taken (spec 5.3), and an outstanding
 * relinquish is sent again under the surviving id.
 */
class TerminatedSecondIdTest {
    private static final int SECOND = OBJ + 1;
    private final XpKernels k = new XpKernels(new FailingStore(0));
    private final long a = k.kernel(1, "A");
    private final long b = k.kernel(2, "B");

    {
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(SECOND).setName("obj").setPageSize(PAGE)));
        assertThat(k.one(a).getMemoryObjectReady().getObjectId()).isEqualTo(SECOND);
    }

    private void terminateFirst() {
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder().setObjectId(OBJ)));
    }

    @Test
    void aReleaseUnderTheTerminatedIdHandsTheFutexOnAndTheAskGoesAgainUnderTheOther() {
        k.lockFutex(a, 0);
        k.one(a); // granted, under the first id
        k.lockFutex(b, 0);
        assertThat(k.one(a).getMemoryObjectRelinquishFutex().getObjectId()).isEqualTo(OBJ);
        long token = k.pager.fencingToken("obj", 0);

        terminateFirst(); // crosses the relinquish
        PagerToKernel again = k.one(a);
        assertThat(again.getMemoryObjectRelinquishFutex().getObjectId()).as("asked again under the id that names "
                + "the object now").isEqualTo(SECOND);

        k.xp(a, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(token))); // answered under the id it was asked with
        assertThat(k.one(b).hasMemoryObjectFutexGranted()).as("B gets the futex A gave back").isTrue();
    }

    @Test
    void aLockCompletedUnderTheTerminatedIdEndsTheFlush() {
        k.write(a, 0);
        k.take(a);
        k.read(b, 0);
        assertThat(k.one(a).getMemoryObjectLockRequest().getObjectId()).isEqualTo(OBJ);
        terminateFirst();
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted.newBuilder()
                .setObjectId(OBJ).setOffset(0).setLength(PAGE)));
        assertThat(k.take(b)).as("B's read is answered").hasSize(1);
    }

    @Test
    void theTerminatedIdIsAnAliasOnlyForAnswers() {
        terminateFirst();
        k.lockFutex(a, 0); // a request under the terminated id is still refused
        k.nothingTo(a);
    }

    /**
     * Review of outside3, LOW-5: an init of the terminated id ends its alias even when refused
     * (spec 5.3); before, a destroy left it, and a release under the id was still taken.
     */
    @Test
    void anInitOfTheTerminatedIdEndsTheAliasEvenWhenRefused() {
        k.lockFutex(a, 0);
        k.one(a);
        k.lockFutex(b, 0);
        k.one(a); // the relinquish, under the first id
        long token = k.pager.fencingToken("obj", 0);
        terminateFirst();
        k.one(a); // asked again under the other id
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(OBJ).setName("missing").setPageSize(PAGE)));
        assertThat(k.one(a).hasMemoryObjectDestroy()).isTrue();
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(token)));
        assertThat(k.take(b)).as("the id names nothing now: the release is refused").isEmpty();
    }
}
