package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.CopyStrategy;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectChangeAttributes;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.MemoryObjectSynchronizeCompleted;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rest of Mach's memory_object interface in the kernel core (XP spec 6.2, 6.4, 6.9-6.12):
 * ranges, vm_msync, precious pages and supply_completed, may_cache and copy strategies.
 */
class KernelCoreMachTest {
    private static final int PAGE = CoreFixture.PAGE;
    private final CoreFixture k = new CoreFixture(true);

    private static byte[] filled(int pages, int value) {
        byte[] b = new byte[pages * PAGE];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private void send(PagerToKernel.Builder m) {
        k.core.xp().onXp(m.build());
    }

    private void supply(long offset, byte[] data, boolean precious, boolean reply) {
        send(PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                .setObjectId(CoreFixture.OBJECT_ID).setOffset(offset).setData(ByteString.copyFrom(data))
                .setLockValue(VmProt.VM_PROT_NONE).setVersion(3).setPrecious(precious).setReply(reply)));
    }

    private void lockRange(long offset, long length, boolean reply) {
        send(PagerToKernel.newBuilder().setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder()
                .setObjectId(CoreFixture.OBJECT_ID).setOffset(offset).setLength(length)
                .setShouldReturn(ReturnPolicy.RETURN_DIRTY).setShouldFlush(true).setLockValue(VmProt.VM_PROT_NONE)
                .setReply(reply)));
    }

    private io.machxp.proto.xp.MemoryObjectChangeCompleted changeAttributes(boolean mayCache, CopyStrategy strategy) {
        send(PagerToKernel.newBuilder().setMemoryObjectChangeAttributes(MemoryObjectChangeAttributes.newBuilder()
                .setObjectId(CoreFixture.OBJECT_ID).setMayCache(mayCache).setCopyStrategy(strategy).setReply(true)));
        return k.env.drain().stream().filter(KernelToPager::hasMemoryObjectChangeCompleted).findFirst().orElseThrow()
                .getMemoryObjectChangeCompleted();
    }

    @Test
    void theHelloNamesTheOptionalRoutines() {
        assertThat(PageCache.FEATURES).containsExactlyInAnyOrder("precious", "lock_ranges", "change_attributes");
    }

    @Test
    void aReadOfSeveralAbsentPagesAsksThemInOneRequestAndTakesOneSupply() {
        Answer<byte[]> read = k.read(k.base + PAGE, 3 * PAGE);
        var request = k.single().getMemoryObjectDataRequest();
        assertThat(request.getOffset()).isEqualTo(PAGE);
        assertThat(request.getLength()).isEqualTo(3L * PAGE);
        supply(PAGE, filled(3, 7), false, false);
        assertThat(read.value()).isEqualTo(filled(3, 7));
        assertThat(k.env.sent).as("no second request").isEmpty();
    }

    @Test
    void aRangeDataErrorFailsEveryPageOfIt() {
        Answer<byte[]> first = k.read(k.base, 4);
        Answer<byte[]> third = k.read(k.base + 2 * PAGE, 4);
        k.env.drain();
        send(PagerToKernel.newBuilder().setMemoryObjectDataError(io.machxp.proto.xp.MemoryObjectDataError.newBuilder()
                .setObjectId(CoreFixture.OBJECT_ID).setOffset(0).setLength(3L * PAGE).setReason("planted")));
        assertThat(first.error().errno()).isEqualTo(Errno.EIO);
        assertThat(third.error().errno()).isEqualTo(Errno.EIO);
    }

    @Test
    void aLockRequestRangeReturnsEachDirtyPageThenOneLockCompleted() {
        k.write(k.base, filled(3, 1));
        k.env.drain();
        supply(0, filled(3, 0), false, false);
        k.write(k.base, filled(3, 9)).value();
        lockRange(0, 3L * PAGE, true);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::getRoutineCase).containsExactly(
                KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_RETURN, KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_RETURN,
                KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_RETURN, KernelToPager.RoutineCase.MEMORY_OBJECT_LOCK_COMPLETED);
        assertThat(sent.get(3).getMemoryObjectLockCompleted().getLength()).isEqualTo(3L * PAGE);
        assertThat(sent.subList(0, 3)).allSatisfy(m -> assertThat(m.getMemoryObjectDataReturn().getDirty()).isTrue());
        k.read(k.base + 2 * PAGE, 4);
        assertThat(k.single().hasMemoryObjectDataRequest()).as("the range's last page was flushed").isTrue();
    }

    @Test
    void msyncReturnsTheDirtyPagesAndAnswersAtSynchronizeCompleted() {
        k.write(k.base + PAGE + 8, new byte[] {1, 2});
        k.env.drain();
        supply(PAGE, filled(1, 0), false, false);
        Answer<Integer> msync = new Answer<>();
        k.core.vmMsync(k.task.id, k.base + PAGE + 8, 2, msync);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::getRoutineCase).containsExactly(
                KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_RETURN, KernelToPager.RoutineCase.MEMORY_OBJECT_SYNCHRONIZE);
        assertThat(sent.get(0).getMemoryObjectDataReturn().getKernelCopy()).isTrue();
        var sync = sent.get(1).getMemoryObjectSynchronize();
        assertThat(sync.getOffset()).isEqualTo(PAGE);
        assertThat(sync.getLength()).isEqualTo(PAGE);
        assertThat(msync.answered()).as("not before synchronize_completed").isFalse();
        send(PagerToKernel.newBuilder().setMemoryObjectSynchronizeCompleted(MemoryObjectSynchronizeCompleted
                .newBuilder().setObjectId(CoreFixture.OBJECT_ID).setOffset(PAGE).setLength(PAGE)));
        assertThat(msync.value()).isEqualTo(1);
        assertThat(k.write(k.base + PAGE, new byte[] {3}).answered()).as("the page stayed writable").isTrue();
    }

    @Test
    void msyncFailsWithTheRefusalOfThePager() {
        Answer<Integer> msync = new Answer<>();
        k.core.vmMsync(k.task.id, k.base, PAGE, msync);
        k.env.drain();
        send(PagerToKernel.newBuilder().setMemoryObjectSynchronizeCompleted(MemoryObjectSynchronizeCompleted
                .newBuilder().setObjectId(CoreFixture.OBJECT_ID).setOffset(0).setLength(PAGE).setError("no")));
        assertThat(msync.error().errno()).isEqualTo(Errno.EINVAL);
    }

    @Test
    void aSupplyWithReplyIsAnsweredAndAPresentPageIsNamed() {
        k.read(k.base, 4);
        k.env.drain();
        supply(0, filled(1, 5), true, true);
        var done = k.single().getMemoryObjectSupplyCompleted();
        assertThat(done.getError()).isEmpty();
        supply(0, filled(1, 6), true, true);
        var again = k.single().getMemoryObjectSupplyCompleted();
        assertThat(again.getError()).contains("KERN_MEMORY_PRESENT");
        assertThat(again.getErrorOffset()).isZero();
    }

    @Test
    void aCleanPreciousPageGoesBackWithItsDataWhenNoTaskMapsAnObjectThatMayNotBeCached() {
        k.read(k.base, 4);
        k.env.drain();
        supply(0, filled(1, 5), true, false);
        assertThat(changeAttributes(true, CopyStrategy.MEMORY_OBJECT_COPY_NONE).getError()).isEmpty();
        assertThat(changeAttributes(false, CopyStrategy.MEMORY_OBJECT_COPY_NONE).getMayCache()).isFalse();
        assertThat(k.env.sent).as("the task still maps the object").isEmpty();
        Answer<Void> ended = new Answer<>();
        k.core.taskTerminate(k.task.id, "test", ended);
        var back = k.env.drain().stream().filter(KernelToPager::hasMemoryObjectDataReturn).findFirst().orElseThrow()
                .getMemoryObjectDataReturn();
        assertThat(back.getDirty()).isFalse();
        assertThat(back.getKernelCopy()).isFalse();
        assertThat(back.getData().toByteArray()).isEqualTo(filled(1, 5));
    }

    @Test
    void copyCallIsRefusedAndCopyDelayTaken() {
        var call = changeAttributes(true, CopyStrategy.MEMORY_OBJECT_COPY_CALL);
        assertThat(call.getError()).contains("memory_object_copy");
        assertThat(call.getCopyStrategy()).isEqualTo(CopyStrategy.MEMORY_OBJECT_COPY_NONE);
        var delay = changeAttributes(true, CopyStrategy.MEMORY_OBJECT_COPY_DELAY);
        assertThat(delay.getError()).isEmpty();
        assertThat(delay.getCopyStrategy()).isEqualTo(CopyStrategy.MEMORY_OBJECT_COPY_DELAY);
    }
}
