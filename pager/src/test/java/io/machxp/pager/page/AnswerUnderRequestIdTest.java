package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.OBJ;
import static io.machxp.pager.page.XpKernels.PAGE;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.snapshot.PagerSnapshot;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataUnlock;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import org.junit.jupiter.api.Test;

/**
 * Review of outside4, LOW-6 (a): a kernel with two ids for one object (spec 5.2) is answered a
 * data_request or data_unlock under the id it asked under. Before, the answer went under the id the
 * pager names the object by (the first initialized), so a data_supply under that id could cross the
 * kernel's terminate of it, and spec 5.3 lets a kernel drop such a message (only a relinquish or a
 * lock_request under a terminated id must be acted on): its fault waited while the pager counted
 * the page as its. The tests marked so fail on the old code (the answer came under the first id).
 */
class AnswerUnderRequestIdTest {
    private static final int SECOND = OBJ + 1;
    private final XpKernels k = new XpKernels(new FailingStore(0));
    private final long a = k.kernel(1, "A");
    private final long b = k.kernel(2, "B");

    {
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(SECOND).setName("obj").setPageSize(PAGE)));
        assertThat(k.one(a).getMemoryObjectReady().getObjectId()).isEqualTo(SECOND);
    }

    private void request(int objectId, VmProt access) {
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(objectId).setOffset(0).setLength(PAGE).setDesiredAccess(access)));
    }

    private void terminate(int objectId) {
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectTerminate(
                MemoryObjectTerminate.newBuilder().setObjectId(objectId)));
    }

    /** B writes page 0; A asks to read it under {@code objectId}: B is asked to downgrade first. */
    private void readWhileBWrites(int objectId) {
        k.write(b, 0);
        k.take(b);
        request(objectId, VmProt.VM_PROT_READ);
        assertThat(k.one(b).getMemoryObjectLockRequest().getShouldFlush()).isFalse(); // the downgrade
        k.nothingTo(a);
    }

    /**
     * A's answer goes out under the id A asked under, so A's terminate of the first id, crossing it,
     * does not touch it. Fails on the old code (data_unavailable under the first id).
     */
    @Test
    void aDataRequestIsAnsweredUnderTheIdItCameUnder() {
        readWhileBWrites(SECOND);
        k.lockCompleted(b, 0);
        PagerToKernel answer = k.one(a);
        terminate(OBJ); // sent by A before the answer reached it: crosses the answer
        assertThat(answer.getMemoryObjectDataUnavailable().getObjectId()).as("under the id A asked under")
                .isEqualTo(SECOND);
        k.nothingTo(a, b);
    }

    /** Write access for a reader's copy (allow write) goes under the data_unlock's id. Fails on the old code. */
    @Test
    void aDataUnlockIsAnsweredUnderTheIdItCameUnder() {
        request(SECOND, VmProt.VM_PROT_READ);
        assertThat(k.one(a).getMemoryObjectDataUnavailable().getObjectId()).isEqualTo(SECOND);
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectDataUnlock(MemoryObjectDataUnlock.newBuilder()
                .setObjectId(SECOND).setOffset(0).setLength(PAGE).setDesiredAccess(VmProt.VM_PROT_WRITE)));
        var allow = k.one(a).getMemoryObjectLockRequest();
        assertThat(allow.getLockValue()).isEqualTo(VmProt.VM_PROT_NONE);
        assertThat(allow.getObjectId()).as("under the id A asked under").isEqualTo(SECOND);
    }

    /** The first id is answered under the first id (unchanged). */
    @Test
    void aDataRequestUnderTheFirstIdIsAnsweredUnderIt() {
        readWhileBWrites(OBJ);
        k.lockCompleted(b, 0);
        assertThat(k.one(a).getMemoryObjectDataUnavailable().getObjectId()).isEqualTo(OBJ);
    }

    /**
     * A terminates the id it asked under, keeping the object under the other, and the terminate
     * reaches the pager before the answer goes: the answer goes under the id that names the object
     * now (the terminated one is refused for anything but answers, spec 5.3).
     */
    @Test
    void anAnswerAfterTheTerminateOfTheAskingIdGoesUnderTheIdThatNamesTheObjectNow() {
        readWhileBWrites(SECOND);
        terminate(SECOND);
        k.nothingTo(a);
        k.lockCompleted(b, 0);
        assertThat(k.one(a).getMemoryObjectDataUnavailable().getObjectId()).isEqualTo(OBJ);
    }

    /**
     * An operation restored from a snapshot keeps the id it came under. Fails on the old code (no
     * such field: the restored core answered under the first id).
     */
    @Test
    void aRestoredOperationIsAnsweredUnderTheIdItCameUnder() throws Exception {
        readWhileBWrites(SECOND);
        PagerSnapshot snapshot = k.pager.snapshot();
        XpKernels r = new XpKernels(new FailingStore(0));
        r.pager.restore(PagerSnapshot.parseFrom(snapshot.toByteArray()));
        assertThat(r.pager.snapshot()).as("read back, written again").isEqualTo(snapshot);

        r.lockCompleted(b, 0);
        assertThat(r.one(a).getMemoryObjectDataUnavailable().getObjectId()).isEqualTo(SECOND);
    }

    /** A's third id for the object is 0, a valid id (review of low6, L6-5). */
    private void initUnderZero() {
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(0).setName("obj").setPageSize(PAGE)));
        assertThat(k.one(a).getMemoryObjectReady().getObjectId()).isZero();
    }

    /** A request under id 0 is answered under 0. Fails before L6-5 (0 meant "not known": under the first id). */
    @Test
    void aDataRequestUnderIdZeroIsAnsweredUnderIt() {
        initUnderZero();
        readWhileBWrites(0);
        k.lockCompleted(b, 0);
        assertThat(k.one(a).getMemoryObjectDataUnavailable().getObjectId()).isZero();
    }

    /**
     * Restored from a snapshot, an operation asked under id 0 keeps it; one from a snapshot written
     * before the id was kept (no object_id) is answered under the id the pager names the object by.
     * The first part fails before L6-5 (answered under the first id).
     */
    @Test
    void aRestoredOperationUnderIdZeroKeepsItAndAnOldImageFallsBack() throws Exception {
        initUnderZero();
        readWhileBWrites(0);
        PagerSnapshot snapshot = k.pager.snapshot();
        XpKernels r = new XpKernels(new FailingStore(0));
        r.pager.restore(PagerSnapshot.parseFrom(snapshot.toByteArray()));
        assertThat(r.pager.snapshot()).as("read back, written again").isEqualTo(snapshot);
        r.lockCompleted(b, 0);
        assertThat(r.one(a).getMemoryObjectDataUnavailable().getObjectId()).isZero();

        XpKernels old = new XpKernels(new FailingStore(0));
        old.pager.restore(withoutObjectIds(snapshot));
        old.lockCompleted(b, 0);
        assertThat(old.one(a).getMemoryObjectDataUnavailable().getObjectId()).isEqualTo(OBJ);
    }

    /** The snapshot as a pager writes it that does not keep an operation's object id. */
    private static PagerSnapshot withoutObjectIds(PagerSnapshot s) {
        PagerSnapshot.Builder b = s.toBuilder();
        clearObjectIds(b);
        return b.build();
    }

    private static void clearObjectIds(com.google.protobuf.Message.Builder b) {
        for (var e : b.getAllFields().entrySet()) {
            var field = e.getKey();
            if (field.getJavaType() != com.google.protobuf.Descriptors.FieldDescriptor.JavaType.MESSAGE) {
                continue;
            }
            if (field.isRepeated()) {
                for (int i = 0; i < b.getRepeatedFieldCount(field); i++) {
                    com.google.protobuf.Message.Builder sub = ((com.google.protobuf.Message) b.getRepeatedField(field, i))
                            .toBuilder();
                    clear(sub);
                    b.setRepeatedField(field, i, sub.build());
                }
            } else {
                com.google.protobuf.Message.Builder sub = ((com.google.protobuf.Message) b.getField(field)).toBuilder();
                clear(sub);
                b.setField(field, sub.build());
            }
        }
    }

    private static void clear(com.google.protobuf.Message.Builder sub) {
        if (sub instanceof io.machxp.proto.snapshot.PageOperationImage.Builder op) {
            op.clearObjectId();
        }
        clearObjectIds(sub);
    }
}
