package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectReclaimContinue;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reclaim larger than gRPC's 4 MiB (xp-spec 9.4): the reviewer's p26, 1,100 unconfirmed returns
 * of 4 KiB given again after a restart, 4.5 MB. The pager takes kernel messages of 4 MiB at most
 * (its limit was 64 MiB for a while, server-wide, so that one connection could make it buffer 1 GiB);
 * such a reclaim travels in parts: the kernel_hello, then memory_object_reclaim_continue.
 */
class LargeReclaimTest {
    private static final int PAGE = 4096;
    private static final int PAGES = 1100;

    private static ReclaimedObject.Builder returns(int from, int to) {
        ReclaimedObject.Builder o = ReclaimedObject.newBuilder().setObjectId(1).setName("obj").setPageSize(PAGE);
        for (int i = from; i < to; i++) {
            byte[] data = new byte[PAGE];
            Arrays.fill(data, (byte) (i + 1));
            o.addPages(ReclaimedPage.newBuilder().setOffset((long) i * PAGE).setAccess(VmProt.VM_PROT_NONE)
                    .setVersion(1).setData(ByteString.copyFrom(data)));
        }
        return o;
    }

    private static KernelToPager reclaimHello(String name, Reclaim.Builder reclaim) {
        return ProbeKernel.hello(name).setKernelHello(ProbeKernel.hello(name).getKernelHello().toBuilder()
                .setProtocolVersion(reclaim.getContinues() ? 2 : 1).setReclaim(reclaim)).build(); // xp-spec 2.3
    }

    private static PagerConfig config(Path store) {
        return PagerConfig.loopback(Map.of("obj", (long) PAGES * PAGE)).withLease(Duration.ofSeconds(60))
                .withStoreDir(store);
    }

    @Test
    void aReclaimOfMoreThanFourMegabytesIsTakenInParts(@TempDir Path store) throws Exception {
        try (Pager first = Pager.start(config(store)); ProbeKernel k = new ProbeKernel(first.target())) {
            assertThat(first.status().getInGrace()).isFalse();
            k.send(ProbeKernel.hello("before").build());
            assertThat(k.await(PagerToKernel::hasPagerWelcome).getPagerWelcome().getReclaimInParts())
                    .as("the welcome says the pager takes a reclaim in parts").isTrue();
        }
        KernelToPager hello = reclaimHello("back", Reclaim.newBuilder().setKernelId(5).addObjects(returns(0, PAGES / 2))
                .setContinues(true));
        KernelToPager rest = KernelToPager.newBuilder().setMemoryObjectReclaimContinue(MemoryObjectReclaimContinue
                .newBuilder().addObjects(returns(PAGES / 2, PAGES))).build();
        assertThat(hello.getSerializedSize() + rest.getSerializedSize()).isGreaterThan(4 << 20);
        assertThat(hello.getSerializedSize()).isLessThan(Pager.MAX_KERNEL_MESSAGE_BYTES);
        assertThat(rest.getSerializedSize()).isLessThan(Pager.MAX_KERNEL_MESSAGE_BYTES);
        try (Pager pager = Pager.start(config(store)); ProbeKernel back = new ProbeKernel(pager.target())) {
            back.send(hello);
            back.send(rest);
            assertThat(back.await(PagerToKernel::hasPagerWelcome).getPagerWelcome().getKernelId()).isEqualTo(5);
            back.barrier(); // answered: what the reclaim gave again is in the store (4.2)
        }
        // Read from the store, not asked for: a data_request waits for the end of grace (60 s,
        // so that a loaded machine cannot end it before the 4.5 MB reclaim is read).
        try (io.machxp.pager.store.FilePageStore disk = new io.machxp.pager.store.FilePageStore(store, PAGE)) {
            long last = (long) (PAGES - 1) * PAGE;
            assertThat(disk.version("obj", last)).as("the last page given again was taken").isEqualTo(1);
            assertThat(disk.read("obj", last)[0]).isEqualTo((byte) PAGES);
            assertThat(disk.read("obj", 0)[0]).as("the first part's too").isEqualTo((byte) 1);
        }
    }

    /**
     * One message over 4 MiB is refused by the transport again, before the pager sees it (xp-spec
     * 3.2). While the limit was 64 MiB this 5 MiB hello was welcomed.
     */
    @Test
    void aSingleMessageOfFiveMegabytesIsRefusedByTheTransport(@TempDir Path store) throws Exception {
        try (Pager first = Pager.start(config(store))) {
            assertThat(first.status().getInGrace()).isFalse();
        }
        KernelToPager hello = reclaimHello("back", Reclaim.newBuilder().setKernelId(5).addObjects(returns(0, 1240)));
        assertThat(hello.getSerializedSize()).isGreaterThan(5_000_000).isLessThan(6 << 20);
        try (Pager pager = Pager.start(config(store)); ProbeKernel back = new ProbeKernel(pager.target())) {
            back.send(hello);
            com.google.rpc.Status end = back.end.get(30, TimeUnit.SECONDS);
            assertThat(end.getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED.value());
            assertThat(ProbeKernel.reason(end)).as("gRPC's own refusal: no ErrorInfo").isNull();
            assertThat(pager.status().getSessionsList()).isEmpty();
        }
    }
}
