package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.PagerToKernel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A deadlock probe (xp-spec 8.9) is the one message the pager passes from one kernel to another:
 * it passes the probe's fields, not whatever else the sender put in the message. Before, the pager
 * passed the message on as it came (protobuf keeps fields it does not know), so a kernel could make
 * the pager send up to 4 MiB of its own bytes to the holder of any futex of an object it had
 * initialized, for each probe of a few bytes' worth of fields: bytes counted against the holder's
 * bounds (256 MiB unread ends its session, 16 MiB unacknowledged ends its chance to resume), and
 * written by the pager's core thread that every kernel shares.
 */
class RelayedProbeTest {
    @Test
    void aProbeReachesTheHolderWithItsFieldsAndNothingElse() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 16L * 4096)).withLease(Duration.ZERO));
                ProbeKernel holder = ProbeKernel.welcomed(pager.target(), "holder");
                ProbeKernel other = ProbeKernel.welcomed(pager.target(), "other")) {
            holder.send(ProbeKernel.lock(8));
            holder.await(PagerToKernel::hasMemoryObjectFutexGranted);
            other.send(ProbeKernel.lock(8)); // a kernel probes for a futex it waits for (8.9, O3-5)
            holder.await(PagerToKernel::hasMemoryObjectRelinquishFutex);
            MemoryObjectFutexProbe fields = MemoryObjectFutexProbe.newBuilder().setObjectId(1).setOffset(8)
                    .setInitiator(7).setWait(3).setHops(2).setYoungest(9).setYoungestWait(4)
                    .setYoungestBeganMicros(1_700_000_000_000_000L).build();
            UnknownFieldSet padding = UnknownFieldSet.newBuilder().addField(1000, UnknownFieldSet.Field.newBuilder()
                    .addLengthDelimited(ByteString.copyFrom(new byte[1 << 20])).build()).build();
            other.send(KernelToPager.newBuilder().setMemoryObjectFutexProbe(fields.toBuilder()
                    .setUnknownFields(padding)).build());
            other.barrier();

            List<PagerToKernel> got = holder.barrier();
            assertThat(got).hasSize(1);
            MemoryObjectFutexProbe passed = got.get(0).getMemoryObjectFutexProbe();
            assertThat(passed.getUnknownFields().asMap()).as("fields the sender added").isEmpty();
            assertThat(passed.getSerializedSize()).as("bytes the holder was sent").isLessThan(64);
            assertThat(passed).isEqualTo(fields.toBuilder().setHops(3).build()); // its own object id is 1 too
        }
    }
}
