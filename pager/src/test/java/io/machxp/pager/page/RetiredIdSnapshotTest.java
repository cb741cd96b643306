package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.OBJ;
import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.proto.snapshot.PagerSnapshot;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectTerminate;
import org.junit.jupiter.api.Test;

/**
 * Review of outside3, HIGH-1: a session's aliases of just-terminated ids (spec 5.3) and its notes
 * of refused dirty returns (spec 6.9) change what the core does with later input, so a replica
 * restored from a snapshot must have them. Before, neither was in the snapshot: a restored replica
 * refused the release under the terminated id that every log-replaying replica took (B never got
 * the futex there), and answered the synchronize after a stale return as done.
 */
class RetiredIdSnapshotTest {
    private static final int SECOND = OBJ + 1;
    private final XpKernels k = new XpKernels(new FailingStore(0));
    private final long a = k.kernel(1, "A");
    private final long b = k.kernel(2, "B");

    /** A fresh core (another replica) given the snapshot of {@link #k}, read back through bytes. */
    private XpKernels restored() throws Exception {
        PagerSnapshot snapshot = k.pager.snapshot();
        XpKernels r = new XpKernels(new FailingStore(0));
        r.pager.restore(PagerSnapshot.parseFrom(snapshot.toByteArray()));
        assertThat(r.pager.snapshot()).as("read back, written again").isEqualTo(snapshot);
        return r;
    }

    @Test
    void aReleaseUnderAnIdTerminatedBeforeTheSnapshotIsTakenByTheRestoredCore() throws Exception {
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(SECOND).setName("obj").setPageSize(PAGE)));
        k.one(a); // ready
        k.lockFutex(a, 0);
        k.one(a); // granted
        k.lockFutex(b, 0);
        assertThat(k.one(a).getMemoryObjectRelinquishFutex().getObjectId()).isEqualTo(OBJ);
        long token = k.pager.fencingToken("obj", 0);
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder().setObjectId(OBJ)));
        k.one(a); // the relinquish again, under the surviving id

        XpKernels r = restored();
        r.xp(a, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(token)));
        assertThat(r.one(b).hasMemoryObjectFutexGranted()).as("B gets the futex on the restored replica too").isTrue();
    }

    @Test
    void aSynchronizeAfterAStaleReturnBeforeTheSnapshotIsAnsweredWithTheErrorByTheRestoredCore() throws Exception {
        k.write(a, 0);
        k.take(a);
        for (int i = 1; i <= 2; i++) { // the second return carries the same version: stale, refused
            k.xp(a, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                    .setObjectId(OBJ).setOffset(0).setData(ByteString.copyFrom(page(i))).setDirty(true)
                    .setKernelCopy(true).setVersion(1)));
        }

        XpKernels r = restored();
        r.synchronize(a, 0, PAGE);
        assertThat(r.one(a).getMemoryObjectSynchronizeCompleted().getError()).contains("page 0x0")
                .contains("version 1 was not taken");
    }
}
