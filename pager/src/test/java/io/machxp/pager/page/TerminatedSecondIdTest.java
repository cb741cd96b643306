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
 * relinquish is sent again under the surviving id (only when the terminated id is the one the pager
 * named the object by). A lock_request is not sent again (review of outside4, HIGH-1): a kernel may
 * answer it under either id, so the answers to two would be taken for a later request's.
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

    private void lockCompleted(int objectId) {
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted.newBuilder()
                .setObjectId(objectId).setOffset(0).setLength(PAGE)));
    }

    /** A writes page 0, B reads it: A is asked to downgrade under the first id; A terminates that id. */
    private void downgradeCrossesTheTerminate() {
        k.write(a, 0);
        k.take(a);
        k.read(b, 0);
        assertThat(k.one(a).getMemoryObjectLockRequest().getObjectId()).isEqualTo(OBJ);
        terminateFirst();
    }

    /** A kernel answers the lock_request that crossed its terminate under the terminated id. */
    @Test
    void aLockCompletedUnderTheTerminatedIdEndsTheFlush() {
        downgradeCrossesTheTerminate();
        k.nothingTo(a); // the lock_request is not sent again
        lockCompleted(OBJ);
        assertThat(k.take(b)).as("B's read is answered").hasSize(1);
    }

    /**
     * Review of outside4, HIGH-1: a kernel may answer the lock_request that crossed its terminate
     * under the id that names the object now (spec 5.3, either id): the operation goes on at that
     * answer (no loss). Fails on 671b05cb, which sent the request again under that id.
     */
    @Test
    void aLockCompletedUnderTheSurvivingIdEndsTheFlush() {
        downgradeCrossesTheTerminate();
        k.nothingTo(a);
        lockCompleted(SECOND);
        assertThat(k.take(b)).as("B's read is answered").hasSize(1);
    }

    /**
     * Review of outside4, HIGH-1: the answer under the surviving id to the lock_request that crossed
     * the terminate ends that request only; it is not taken for a later one. C's write, queued
     * behind B's read, waits for A's answer to the flush it sends A. On 671b05cb the request was sent
     * again and such a kernel answered it under the surviving id too: that second answer was taken
     * for the flush, and C was given the page writable while A still held its copy.
     */
    @Test
    void anAnswerUnderTheSurvivingIdIsNotTakenForALaterRequest() {
        long c = k.kernel(3, "C");
        downgradeCrossesTheTerminate();
        k.write(c, 0);
        k.nothingTo(a, b, c);
        lockCompleted(SECOND); // A answers the downgrade that crossed the terminate, under the id it has now
        var toB = k.take(b);
        assertThat(toB).as("B's read is answered, then C's write flushes B").hasSize(2);
        assertThat(toB.get(0).hasMemoryObjectDataUnavailable()).isTrue();
        assertThat(toB.get(1).getMemoryObjectLockRequest().getShouldFlush()).isTrue();
        var flushA = k.one(a).getMemoryObjectLockRequest();
        assertThat(flushA.getShouldFlush()).as("C's write flushes A").isTrue();
        assertThat(flushA.getObjectId()).as("under the id that names the object now").isEqualTo(SECOND);
        k.lockCompleted(b, 0);
        k.nothingTo(c); // A has not answered the flush yet
        lockCompleted(SECOND);
        assertThat(k.take(c)).as("C's write is answered").hasSize(1);
    }

    /**
     * Review of outside3-fix, LOW-4: the terminate of an id the pager does not name the object by
     * (not the first initialized) sends nothing again: no ask went under it. Before, the
     * relinquish was sent again after any second id's terminate.
     */
    @Test
    void theTerminateOfAnIdNoAskWentUnderSendsNothingAgain() {
        k.lockFutex(a, 0);
        k.one(a);
        k.lockFutex(b, 0);
        assertThat(k.one(a).getMemoryObjectRelinquishFutex().getObjectId()).isEqualTo(OBJ);
        k.write(a, PAGE);
        k.take(a);
        k.read(b, PAGE);
        assertThat(k.one(a).getMemoryObjectLockRequest().getObjectId()).isEqualTo(OBJ);
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder()
                .setObjectId(SECOND)));
        k.nothingTo(a);
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
