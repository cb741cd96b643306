package io.machxp.kernel.probe;

import static io.machxp.kernel.probe.RawPager.PAGE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.LocalTask;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.KernelToPager.RoutineCase;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * memory_object_data_supply from {@link RawPager} of the wrong size, at odd offsets, for unknown
 * objects, and a pager that stops answering keepalives, against a real kernel over gRPC.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RawPagerSupplyProbeTest {
    private RawPager pager;
    private Kernel kernel;

    @AfterEach
    void stop() {
        kernel.close();
        pager.close();
    }

    private void start(PagerWelcome.Builder welcome) throws Exception {
        pager = new RawPager();
        pager.welcome = welcome.setKernelId(7).setPageSize(PAGE).setPagerName("raw").build();
        kernel = Kernel.start(KernelConfig.loopback("probe", pager.address()));
    }

    private static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    /** Supplies the kernel cannot use are answered (with reply: an error) and install nothing. */
    @Test
    void suppliesOfTheWrongSizeOffsetOrObjectInstallNothing() throws Exception {
        start(PagerWelcome.newBuilder());
        LocalTask t = kernel.taskCreate("t");
        long base = t.vmMap("obj");
        int id = pager.stream(0).received.stream().filter(KernelToPager::hasMemoryObjectInit).findFirst().orElseThrow()
                .getMemoryObjectInit().getObjectId();
        RawPager.Stream s = pager.stream(0);
        long[][] bad = { // object id, offset, length
            {id, PAGE, PAGE - 1}, {id, PAGE, PAGE + 1}, {id, PAGE, 0}, {id, PAGE + 8, PAGE}, {id, 1L << 62, PAGE},
            {id, -PAGE, PAGE}, {id + 50, PAGE, PAGE}, {id, 3 * PAGE, 2 * PAGE}};
        for (long[] b : bad) {
            s.send(PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                    .setObjectId((int) b[0]).setOffset(b[1]).setData(ByteString.copyFrom(filled((int) b[2], 7)))
                    .setLockValue(VmProt.VM_PROT_NONE).setReply(true)).build());
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> s.count(RoutineCase.MEMORY_OBJECT_SUPPLY_COMPLETED) == bad.length);
        assertThat(s.received.stream().filter(KernelToPager::hasMemoryObjectSupplyCompleted)
                .map(m -> m.getMemoryObjectSupplyCompleted().getError())).allMatch(e -> !e.isEmpty());
        // (The last one, nobody asked for, installs its first page, inside the object: xp-spec 3.6 would
        // drop it, 6.10's precious pushes need it; left to the spec's authors, not asserted here.)
        // Nothing of the others: page 1 comes from a data_request, zeroed.
        assertThat(t.vmRead(base + PAGE, 1)).containsExactly(0);
        assertThat(s.count(RoutineCase.MEMORY_OBJECT_DATA_REQUEST)).isEqualTo(1);
    }

    /** A pager that stops answering keepalives: the kernel stops at its lease's end, answering calls with an error, never hanging. */
    @Test
    void aPagerThatAnswersNothingStopsTheKernelAtItsLease() throws Exception {
        start(PagerWelcome.newBuilder().setLeaseMillis(1500));
        LocalTask t = kernel.taskCreate("t");
        long base = t.vmMap("obj");
        assertThat(t.vmRead(base, 1)).containsExactly(0);
        pager.answerKeepalives = false;
        pager.answerData = false;
        await().atMost(Duration.ofSeconds(20)).until(() -> catchThrowable(() -> t.vmRead(base + PAGE, 1)) != null);
        assertThat(catchThrowable(() -> t.vmRead(base, 1))).isNotNull();
        assertThat(catchThrowable(() -> kernel.taskCreate("u"))).isNotNull();
    }
}
