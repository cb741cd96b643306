package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reclaim larger than gRPC's default 4 MiB (xp-spec 9.4: a pager takes kernel messages of up to
 * 64 MiB): the reviewer's p26, 1,100 unconfirmed returns of 4 KiB given again after a restart.
 * Before, the pager's transport refused the hello (RESOURCE_EXHAUSTED, no ErrorInfo), and the
 * kernel, which cannot tell that from a break, tried again until its lease ran out.
 */
class LargeReclaimTest {
    private static final int PAGE = 4096;
    private static final int PAGES = 1100;

    @Test
    void aReclaimOfMoreThanFourMegabytesIsTaken(@TempDir Path store) throws Exception {
        PagerConfig config = PagerConfig.loopback(Map.of("obj", (long) PAGES * PAGE))
                .withLease(Duration.ofSeconds(60)).withStoreDir(store);
        try (Pager first = Pager.start(config)) {
            assertThat(first.status().getInGrace()).isFalse();
        }
        ReclaimedObject.Builder o = ReclaimedObject.newBuilder().setObjectId(1).setName("obj").setPageSize(PAGE);
        for (int i = 0; i < PAGES; i++) {
            byte[] data = new byte[PAGE];
            Arrays.fill(data, (byte) (i + 1));
            o.addPages(ReclaimedPage.newBuilder().setOffset((long) i * PAGE).setAccess(VmProt.VM_PROT_NONE)
                    .setVersion(1).setData(ByteString.copyFrom(data)));
        }
        KernelToPager hello = ProbeKernel.hello("back").setKernelHello(ProbeKernel.hello("back").getKernelHello()
                .toBuilder().setReclaim(Reclaim.newBuilder().setKernelId(5).addObjects(o))).build();
        assertThat(hello.getSerializedSize()).isGreaterThan(4 << 20).isLessThan(Pager.MAX_KERNEL_MESSAGE_BYTES);
        try (Pager pager = Pager.start(config); ProbeKernel back = new ProbeKernel(pager.target())) {
            back.send(hello);
            assertThat(back.await(PagerToKernel::hasPagerWelcome).getPagerWelcome().getKernelId()).isEqualTo(5);
            back.barrier(); // answered: what the reclaim gave again is in the store (4.2)
        }
        // Read from the store, not asked for: a data_request waits for the end of grace (60 s,
        // so that a loaded machine cannot end it before the 4.5 MB hello is read).
        try (io.machxp.pager.store.FilePageStore disk = new io.machxp.pager.store.FilePageStore(store, PAGE)) {
            long last = (long) (PAGES - 1) * PAGE;
            assertThat(disk.version("obj", last)).as("the last page given again was taken").isEqualTo(1);
            assertThat(disk.read("obj", last)[0]).isEqualTo((byte) PAGES);
        }
    }
}
