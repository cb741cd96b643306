package io.machxp.kernel.probe;

import static io.machxp.kernel.probe.RawPager.PAGE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.KernelToPager.RoutineCase;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * memory_object_lock_request from {@link RawPager} with odd ranges and every flag combination,
 * against a real kernel over gRPC: the kernel applies what applies to the pages it holds, and a
 * lock_completed it sends means it did (xp-spec 6.4).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RawPagerLockRequestProbeTest extends RawPagerKernelTest {

    /** Sends the request with reply and waits for its lock_completed; returns what the kernel sent for it. */
    private List<KernelToPager> lockRequest(MemoryObjectLockRequest.Builder r) {
        RawPager.Stream s = pager.stream(0);
        int before = s.received.size();
        long completed = s.count(RoutineCase.MEMORY_OBJECT_LOCK_COMPLETED);
        s.send(PagerToKernel.newBuilder().setMemoryObjectLockRequest(r.setReply(true)).build());
        await().atMost(Duration.ofSeconds(10)).until(() -> s.count(RoutineCase.MEMORY_OBJECT_LOCK_COMPLETED) > completed);
        return List.copyOf(s.received.subList(before, s.received.size()));
    }

    /**
     * A flush whose offset + length overflows a uint64 (meaning: to the end) was acknowledged with
     * lock_completed without touching a page: the end, computed on a long, was negative. The pager
     * then counts the kernel as holding nothing while it keeps writing its dirty page.
     */
    @Test
    void aFlushWhoseRangeOverflowsFlushesToTheEndOfTheObject() {
        for (long length : new long[] {Long.MAX_VALUE, Long.MAX_VALUE - PAGE + 1, -PAGE, -1L}) {
            task.vmWrite(base + PAGE, new byte[] {9, 9});
            List<KernelToPager> sent = lockRequest(MemoryObjectLockRequest.newBuilder().setObjectId(objectId)
                    .setOffset(PAGE).setLength(length).setShouldReturn(ReturnPolicy.RETURN_DIRTY).setShouldFlush(true)
                    .setLockValue(VmProt.VM_PROT_NONE));
            assertThat(sent).as("length %s", Long.toUnsignedString(length))
                    .anySatisfy(m -> {
                        assertThat(m.getMemoryObjectDataReturn().getOffset()).isEqualTo(PAGE);
                        assertThat(m.getMemoryObjectDataReturn().getDirty()).isTrue();
                        assertThat(m.getMemoryObjectDataReturn().getKernelCopy()).isFalse();
                    });
            assertThat(sent.get(sent.size() - 1).hasMemoryObjectLockCompleted()).isTrue();
            assertThat(task.vmRead(base + PAGE, 2)).as("paged in again").containsExactly(0, 0);
        }
    }

    /** Every flag combination on a dirty page: returned when asked, dropped when flushed, read-only when locked. */
    @Test
    void everyFlagCombinationOnADirtyPage() {
        for (ReturnPolicy ret : List.of(ReturnPolicy.RETURN_NONE, ReturnPolicy.RETURN_DIRTY, ReturnPolicy.RETURN_ALL)) {
            for (boolean flush : new boolean[] {false, true}) {
                for (VmProt lock : List.of(VmProt.VM_PROT_NONE, VmProt.VM_PROT_READ, VmProt.VM_PROT_WRITE,
                        VmProt.VM_PROT_READ_WRITE)) {
                    task.vmWrite(base + 2 * PAGE, new byte[] {5});
                    List<KernelToPager> sent = lockRequest(MemoryObjectLockRequest.newBuilder().setObjectId(objectId)
                            .setOffset(2 * PAGE).setLength(PAGE).setShouldReturn(ret).setShouldFlush(flush)
                            .setLockValue(lock));
                    String what = ret + " flush " + flush + " lock " + lock;
                    long returns = sent.stream().filter(KernelToPager::hasMemoryObjectDataReturn).count();
                    assertThat(returns).as(what).isEqualTo(ret == ReturnPolicy.RETURN_NONE ? 0 : 1);
                    byte expect = (byte) (flush ? 0 : 5); // flushed: the pager's zero page comes in again
                    assertThat(task.vmRead(base + 2 * PAGE, 1)).as(what).containsExactly(expect);
                    // write again: a locked page asks for write access (data_unlock), which RawPager leaves
                    // unanswered, so flush it outright for the next round
                    lockRequest(MemoryObjectLockRequest.newBuilder().setObjectId(objectId).setOffset(2 * PAGE)
                            .setLength(PAGE).setShouldReturn(ReturnPolicy.RETURN_NONE).setShouldFlush(true)
                            .setLockValue(VmProt.VM_PROT_NONE));
                }
            }
        }
    }

    /**
     * xp-spec 3.6: every lock_request with reply is answered, also for pages the kernel does not
     * hold: an object id the session never initialized, an offset outside the object.
     */
    @Test
    void aLockRequestWithReplyForNothingHeldIsAnswered() {
        lockRequest(MemoryObjectLockRequest.newBuilder().setObjectId(objectId + 100).setOffset(0).setLength(PAGE)
                .setShouldFlush(true));
        lockRequest(MemoryObjectLockRequest.newBuilder().setObjectId(objectId).setOffset(1L << 40).setLength(PAGE)
                .setShouldFlush(true));
        lockRequest(MemoryObjectLockRequest.newBuilder().setObjectId(objectId).setOffset(-PAGE).setLength(PAGE)
                .setShouldFlush(true));
        assertThat(task.vmRead(base, 1)).containsExactly(0);
    }
}
