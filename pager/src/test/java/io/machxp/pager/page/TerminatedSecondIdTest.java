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
 * relinquish or lock_request is sent again under the surviving id (only when the terminated id is
 * the one the pager named the object by).
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

    /**
     * A conforming kernel answers the lock_request under the terminated id and the one sent again,
     * each under the id it came under: both are taken, and B's read is answered at the second.
     */
    @Test
    void aLockCompletedUnderTheTerminatedIdEndsTheFlush() {
        downgradeCrossesTheTerminate();
        assertThat(k.one(a).getMemoryObjectLockRequest().getObjectId()).isEqualTo(SECOND);
        lockCompleted(OBJ);
        k.nothingTo(b); // the request sent again is answered next: the operation waits for it
        lockCompleted(SECOND);
        assertThat(k.take(b)).as("B's read is answered").hasSize(1);
    }

    /**
     * Review of outside3-fix, LOW-4 (the rest): a lock_request outstanding under the terminated id
     * is sent again under the id that names the object now, so a kernel that dropped the first
     * (it named an id it no longer has) still answers; B's read goes on. Before, it was not sent
     * again: A answered nothing and B waited until A's answer deadline ended A's session.
     */
    @Test
    void aLockRequestOutstandingUnderTheTerminatedIdIsSentAgainUnderTheOther() {
        downgradeCrossesTheTerminate();
        var again = k.one(a).getMemoryObjectLockRequest();
        assertThat(again.getObjectId()).as("sent again under the id that names the object now").isEqualTo(SECOND);
        assertThat(again.getOffset()).isZero();
        assertThat(again.getReply()).isTrue();
        lockCompleted(SECOND); // the kernel dropped the first: it answers only this one
        assertThat(k.take(b)).as("B's read is answered").hasSize(1);
    }

    /**
     * Neither answer of the two is taken for a later lock_request of the page: C's write waits for
     * A's answer to the flush it sends A, not for the answers to the downgrade asked twice.
     */
    @Test
    void theAnswersToARequestSentAgainAreNotTakenForALaterOne() {
        long c = k.kernel(3, "C");
        downgradeCrossesTheTerminate();
        k.one(a); // the downgrade again, under the other id
        k.write(c, 0);
        lockCompleted(OBJ);
        k.nothingTo(b, c);
        lockCompleted(SECOND);
        var toB = k.take(b);
        assertThat(toB).as("B's read is answered, then C's write flushes B").hasSize(2);
        assertThat(toB.get(0).hasMemoryObjectDataUnavailable()).isTrue();
        assertThat(toB.get(1).getMemoryObjectLockRequest().getShouldFlush()).isTrue();
        assertThat(k.one(a).getMemoryObjectLockRequest().getShouldFlush()).as("C's write flushes A").isTrue();
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
