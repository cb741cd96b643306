package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.pager.net.FloodingKernelTest.RawKernel;
import io.machxp.pager.store.FilePageStore;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pager with a store on disk writes it on its store thread; a keepalive's answer follows the
 * writes before it, so a kernel that drops its copies then loses nothing in a pager crash.
 */
class StoreThreadTest {
    private static final int PAGE = 4096;

    @Test
    void aReturnIsOnDiskWhenTheKeepaliveAfterItIsAnswered(@TempDir Path dir) throws Exception {
        byte[] data = new byte[PAGE];
        Arrays.fill(data, (byte) 7);
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("big", 4L * PAGE)).withStoreDir(dir)
                .withFreshStart(true).withLease(Duration.ZERO));
                RawKernel k = new RawKernel(pager.target(), "k", true)) {
            k.out.onNext(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                    .setObjectId(1).setOffset(0).setLength(PAGE).setDesiredAccess(VmProt.VM_PROT_READ_WRITE)).build());
            PagerToKernel supplied;
            do { // the page is read off the core thread: the kernel holds it once it has the answer
                supplied = k.next();
            } while (!supplied.hasMemoryObjectDataUnavailable() && !supplied.hasMemoryObjectDataSupply());
            k.out.onNext(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                    .setObjectId(1).setOffset(0).setData(ByteString.copyFrom(data)).setDirty(true)).build());
            k.out.onNext(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(1))
                    .build());
            PagerToKernel m;
            do {
                m = k.next();
            } while (!m.hasPagerKeepalive());
            try (FilePageStore look = new FilePageStore(dir, PAGE)) {
                assertThat(look.read("big", 0)).as("on disk when the keepalive is answered").isEqualTo(data);
            }
        }
    }
}
