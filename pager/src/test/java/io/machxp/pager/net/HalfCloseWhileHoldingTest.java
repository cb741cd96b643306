package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * xp-spec 2.6, 3.3: a kernel with a lease that half-closes while it holds futexes or pages is
 * treated as a broken stream (what it holds stays its own until its lease ends, then goes on as
 * after its death), and its stream ends FAILED_PRECONDITION / EBUSY with a sentence saying so.
 * Before, it ended OK, which tells a kernel that all is stored (the reviewer's p9 B3). A clean end
 * (terminate, then half-close) still ends OK.
 */
class HalfCloseWhileHoldingTest {
    private Pager pager;

    @BeforeEach
    void start() throws Exception {
        pager = Pager.start(PagerConfig.loopback(Map.of("obj", 16L * 4096)).withLease(Duration.ofSeconds(60)));
    }

    @AfterEach
    void stop() {
        pager.close();
    }

    private static void holdAFutexAndAPage(ProbeKernel k) throws InterruptedException {
        k.send(ProbeKernel.lock(8));
        k.await(PagerToKernel::hasMemoryObjectFutexGranted);
        k.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(1).setOffset(4096).setLength(4096).setDesiredAccess(VmProt.VM_PROT_READ)).build());
        k.await(m -> m.hasMemoryObjectDataUnavailable() || m.hasMemoryObjectDataSupply());
    }

    @Test
    void aHalfCloseWhileHoldingEndsWithEbusyNotOk() throws Exception {
        try (ProbeKernel k = ProbeKernel.welcomed(pager.target(), "leaving")) {
            holdAFutexAndAPage(k);
            synchronized (k.out) {
                k.out.onCompleted();
            }
            com.google.rpc.Status end = k.end.get(30, TimeUnit.SECONDS);
            assertThat(end.getCode()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION.value());
            assertThat(ProbeKernel.reason(end)).isEqualTo("EBUSY");
            assertThat(end.getMessage()).contains("kernel 'leaving' half-closed its stream to pager")
                    .contains("while holding 1 futexes and 1 pages: they stay its own until its lease ends in")
                    .contains("OWNER_DIED").contains("terminates its objects");
            assertThat(pager.kernels()).as("kept, as a broken stream, until its lease ends").containsExactly("leaving");
        }
    }

    @Test
    void aCleanEndAfterTerminateStillEndsOk() throws Exception {
        try (ProbeKernel k = ProbeKernel.welcomed(pager.target(), "clean")) {
            holdAFutexAndAPage(k);
            k.send(KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder()
                    .setObjectId(1)).build());
            synchronized (k.out) {
                k.out.onCompleted();
            }
            assertThat(k.end.get(30, TimeUnit.SECONDS).getCode()).isZero();
        }
    }
}
