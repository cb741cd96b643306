package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.pager.net.FloodingKernelTest.RawKernel;
import io.machxp.pager.policy.GrantPolicy;
import io.machxp.pager.store.FilePageStore;
import io.machxp.pager.store.StoreCrashes;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pager (its store thread writing in batches) dies in the middle of a batch, after the records
 * files are forced and before the data is written; a new pager on the store serves
 * the page at its last acknowledged version, not data_error. No lease: nobody could give the
 * newer copy back.
 */
class CrashedBatchOverGrpcTest {
    private static final int PAGE = 4096;

    private static byte[] page(int b) {
        byte[] data = new byte[PAGE];
        Arrays.fill(data, (byte) b);
        return data;
    }

    private static PagerConfig config(boolean fresh) {
        return PagerConfig.loopback(Map.of("big", 4L * PAGE)).withFreshStart(fresh).withLease(Duration.ZERO);
    }

    private static PagerToKernel supplied(RawKernel k, long offset, VmProt access) throws InterruptedException {
        k.out.onNext(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(1).setOffset(offset).setLength(PAGE).setDesiredAccess(access)).build());
        PagerToKernel m;
        do {
            m = k.next();
        } while (!m.hasMemoryObjectDataUnavailable() && !m.hasMemoryObjectDataSupply()
                && !m.hasMemoryObjectDataError());
        return m;
    }

    private static void returnDirty(RawKernel k, byte[] data, long sequence) {
        k.out.onNext(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(1).setOffset(0).setData(ByteString.copyFrom(data)).setDirty(true)).build());
        k.out.onNext(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(sequence))
                .build());
    }

    @Test
    void aPagerDeadInTheMiddleOfABatchLeavesTheAcknowledgedPage(@TempDir Path dir) throws Exception {
        FilePageStore store = new FilePageStore(dir, PAGE);
        CountDownLatch died = new CountDownLatch(1);
        try (Pager pager = Pager.start(config(true), store, GrantPolicy.IMMEDIATE);
                RawKernel k = new RawKernel(pager.target(), "k", true)) {
            supplied(k, 0, VmProt.VM_PROT_READ_WRITE);
            returnDirty(k, page(7), 1);
            PagerToKernel m;
            do {
                m = k.next();
            } while (!m.hasPagerKeepalive()); // 7s acknowledged: on disk
            supplied(k, 0, VmProt.VM_PROT_READ_WRITE);
            StoreCrashes.dieAt(store, "RECORDS_FORCED", died);
            returnDirty(k, page(8), 2);
            assertThat(died.await(30, TimeUnit.SECONDS)).as("the store thread reached the crash").isTrue();
        } // the pager's close writes nothing more: its store is dead
        try (FilePageStore after = new FilePageStore(dir, PAGE);
                Pager pager = Pager.start(config(false), after, GrantPolicy.IMMEDIATE);
                RawKernel k = new RawKernel(pager.target(), "k2", true)) {
            PagerToKernel m = supplied(k, 0, VmProt.VM_PROT_READ);
            assertThat(m.hasMemoryObjectDataSupply()).as("%s", m).isTrue();
            assertThat(m.getMemoryObjectDataSupply().getData().toByteArray()).isEqualTo(page(7));
        }
    }
}
