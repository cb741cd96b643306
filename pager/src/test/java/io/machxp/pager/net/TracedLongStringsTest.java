package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.pager.watch.XpTrace;
import io.machxp.proto.admin.XpMessageTrace;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectSupplyCompleted;
import io.machxp.proto.xp.PagerToKernel;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * While someone watches the pager's messages (machxp trace, the admin service's PagerWatch), each
 * message is kept in a ring of 4,096 descriptions; the strings a kernel sends are kept by their
 * start and length, not whole. Before, a kernel's memory_object_init with an object name of a few
 * MiB, or any message with such a string, was kept whole: 4,096 of them are gigabytes of the
 * pager's heap, and one description larger than gRPC's 4 MiB ended every watcher's stream.
 */
class TracedLongStringsTest {
    @Test
    void aKernelsLongStringsAreTracedByTheirStartAndLength() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 16L * 4096)).withLease(Duration.ZERO));
                ProbeKernel k = ProbeKernel.welcomed(pager.target(), "k")) {
            XpTrace trace = pager.stats().trace();
            long[] cursor = trace.open();
            try {
                String huge = "x".repeat(1 << 20);
                k.send(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(2)
                        .setName(huge).setPageSize(4096)).build());
                assertThat(k.await(m -> true).hasMemoryObjectDestroy()).isTrue();
                k.send(KernelToPager.newBuilder().setMemoryObjectSupplyCompleted(MemoryObjectSupplyCompleted
                        .newBuilder().setObjectId(1).setError(huge)).build());
                k.barrier();

                XpTrace.Batch batch = trace.since(cursor[0], cursor[1], 50, 20);
                assertThat(batch.messages()).extracting(XpMessageTrace::getRoutine).contains(
                        "memory_object_init", "memory_object_destroy", "memory_object_supply_completed");
                for (XpMessageTrace m : batch.messages()) {
                    assertThat(m.getSerializedSize()).as("the trace of %s", m.getRoutine()).isLessThan(2048);
                }
                XpMessageTrace init = batch.messages().stream()
                        .filter(m -> m.getRoutine().equals("memory_object_init")).findFirst().orElseThrow();
                assertThat(init.getObject()).startsWith("xxxx").contains("1048576 characters");
                XpMessageTrace supply = batch.messages().stream()
                        .filter(m -> m.getRoutine().equals("memory_object_supply_completed")).findFirst().orElseThrow();
                assertThat(supply.getDetail()).startsWith("error xxxx").contains("1048576 characters");
            } finally {
                trace.close();
            }
            assertThat(pager.kernels()).contains("k");
        }
    }
}
