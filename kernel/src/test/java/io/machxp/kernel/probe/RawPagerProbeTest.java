package io.machxp.kernel.probe;

import static io.machxp.kernel.probe.RawPager.PAGE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.LocalTask;
import io.machxp.proto.xp.KernelToPager.RoutineCase;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerRedirect;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real kernel over real gRPC on loopback against {@link RawPager}, a pager written from xp.proto
 * and xp-spec alone, that sends what a buggy or hostile pager might. The kernel must drop what it
 * cannot use (xp-spec 3.6) and stay usable: its tasks' reads still answered, on the same stream.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RawPagerProbeTest {
    private RawPager pager;
    private Kernel kernel;

    @AfterEach
    void stop() {
        if (kernel != null) {
            kernel.close();
        }
        if (pager != null) {
            pager.close();
        }
    }

    private void start(PagerWelcome.Builder welcome) throws Exception {
        pager = new RawPager();
        pager.welcome = welcome.setPagerName("raw").build();
        kernel = Kernel.start(KernelConfig.loopback("probe", pager.address()));
    }

    private static PagerWelcome.Builder welcome() {
        return PagerWelcome.newBuilder().setKernelId(7).setPageSize(PAGE);
    }

    /** A lock_request with reply on the first stream: once its lock_completed is back, the kernel handled all before it. */
    private void barrier(int objectId) {
        RawPager.Stream s = pager.stream(0);
        long before = s.count(RoutineCase.MEMORY_OBJECT_LOCK_COMPLETED);
        s.send(PagerToKernel.newBuilder().setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder()
                .setObjectId(objectId).setOffset(3 * PAGE).setLength(PAGE).setShouldReturn(ReturnPolicy.RETURN_NONE)
                .setLockValue(VmProt.VM_PROT_WRITE).setReply(true)).build());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> s.count(RoutineCase.MEMORY_OBJECT_LOCK_COMPLETED) > before);
    }

    private int objectId() {
        return pager.stream(0).received.stream().filter(m -> m.hasMemoryObjectInit()).findFirst().orElseThrow()
                .getMemoryObjectInit().getObjectId();
    }

    /**
     * pager_redirect answers a kernel_hello only (xp.proto, xp-spec 13). One sent in the middle of a
     * session made the kernel leave its stream for a new one to the address named, sending its
     * hello there again: a pager could so end the session (the same pager refuses the name as
     * held) or hand it to any address.
     */
    @Test
    void aRedirectInTheMiddleOfASessionIsDropped() throws Exception {
        start(welcome());
        LocalTask t = kernel.taskCreate("t");
        long base = t.vmMap("obj");
        assertThat(t.vmRead(base, 4)).containsExactly(0, 0, 0, 0);

        pager.stream(0).send(PagerToKernel.newBuilder().setPagerRedirect(PagerRedirect.newBuilder()
                .setLeader(pager.address()).setLeaderId("elsewhere")).build());
        barrier(objectId());

        assertThat(pager.streams).as("the kernel stayed on its stream").hasSize(1);
        assertThat(t.vmRead(base + PAGE, 4)).containsExactly(0, 0, 0, 0);
        assertThat(pager.stream(0).count(RoutineCase.MEMORY_OBJECT_DATA_REQUEST)).isEqualTo(2);
    }

    /**
     * A welcome's lease_millis is a uint64. Leases of 2^63 ms or more (read as a negative long), or
     * whose nanoseconds overflow a long, were taken as no lease (no keepalive) or as a lease of a
     * fraction of a millisecond (keepalives without end, the session stopping at once). The kernel
     * now counts a lease longer than it can keep as the longest it keeps: it keepalives once at the
     * start, and works.
     */
    @Test
    void aWelcomeWithAHugeLeaseIsCountedAsALongOne() throws Exception {
        for (long lease : new long[] {Long.MIN_VALUE, -1L, 10_000_000_000_000L, 18_446_744_073_710L}) {
            start(welcome().setLeaseMillis(lease));
            RawPager.Stream s = pager.stream(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> s.count(RoutineCase.KERNEL_KEEPALIVE) >= 1);
            LocalTask t = kernel.taskCreate("t");
            long base = t.vmMap("obj");
            assertThat(t.vmRead(base, 4)).as("lease %s", Long.toUnsignedString(lease)).containsExactly(0, 0, 0, 0);
            barrier(objectId());
            assertThat(s.count(RoutineCase.KERNEL_KEEPALIVE)).as("lease %s", Long.toUnsignedString(lease))
                    .isEqualTo(1);
            stop();
        }
    }

    /** Messages before the welcome, and a second welcome, are dropped; the session opens with the first. */
    @Test
    void messagesBeforeTheWelcomeAndASecondWelcomeAreDropped() throws Exception {
        pager = new RawPager();
        pager.welcome = welcome().setPagerName("raw").build();
        // The kernel's start waits for the welcome: what comes before it goes on the same stream first.
        RawPager.Stream[] first = new RawPager.Stream[1];
        Thread starter = new Thread(() -> {
            try {
                kernel = Kernel.start(KernelConfig.loopback("probe", pager.address()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        pager.answerHello = false;
        starter.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> !pager.streams.isEmpty()
                && pager.stream(0).count(RoutineCase.KERNEL_HELLO) == 1);
        first[0] = pager.stream(0);
        first[0].send(PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                .setObjectId(1).setOffset(0).setData(ByteString.copyFrom(new byte[PAGE]))).build());
        first[0].send(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                .setObjectId(1).setOffset(0).setFencingToken(5)).build());
        first[0].send(PagerToKernel.newBuilder().setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder()
                .setObjectId(1).setLength(PAGE).setReply(true)).build());
        first[0].send(PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex
                .newBuilder().setObjectId(1)).build());
        first[0].send(PagerToKernel.newBuilder().setPagerWelcome(pager.welcome).build());
        first[0].send(PagerToKernel.newBuilder().setPagerWelcome(welcome().setKernelId(9).setPageSize(2 * PAGE)).build());
        starter.join();
        assertThat(kernel.kernelId()).isEqualTo(7);
        pager.answerHello = true;
        LocalTask t = kernel.taskCreate("t");
        long base = t.vmMap("obj");
        assertThat(t.vmRead(base + PAGE, 4)).containsExactly(0, 0, 0, 0);
        assertThat(pager.streams).hasSize(1);
    }

    /** Unknown enum values and huge repeated fields in messages nobody asked for are dropped. */
    @Test
    void unknownEnumsAndHugeRepeatedFieldsAreDropped() throws Exception {
        start(welcome());
        LocalTask t = kernel.taskCreate("t");
        long base = t.vmMap("obj");
        assertThat(t.vmRead(base, 4)).containsExactly(0, 0, 0, 0);
        int id = objectId();
        RawPager.Stream s = pager.stream(0);
        s.send(PagerToKernel.newBuilder().setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder()
                .setObjectId(id).setLength(PAGE).setShouldReturnValue(77).setLockValueValue(-3).setReply(true)).build());
        s.send(PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                .setObjectId(id).setOffset(2 * PAGE).setLockValueValue(12345)
                .setData(ByteString.copyFrom(new byte[PAGE]))).build());
        MemoryObjectFutexGranted.Builder g = MemoryObjectFutexGranted.newBuilder().setObjectId(id).setOffset(8)
                .setFencingToken(1);
        PageData page = PageData.newBuilder().setOffset(0).setData(ByteString.copyFrom(new byte[PAGE])).build();
        for (int i = 0; i < 1000; i++) {
            g.addPages(page);
        }
        s.send(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(g).build());
        barrier(id);
        assertThat(t.vmRead(base + 2 * PAGE, 4)).containsExactly(0, 0, 0, 0);
        assertThat(s.count(RoutineCase.MEMORY_OBJECT_DATA_REQUEST)).isEqualTo(2);
        t.vmWrite(base, new byte[] {1, 2, 3, 4});
        assertThat(t.vmRead(base, 4)).containsExactly(1, 2, 3, 4);
    }
}
