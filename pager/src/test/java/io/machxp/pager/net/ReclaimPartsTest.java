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
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rules of a reclaim in parts (xp-spec 9.4, "Parts"): a memory_object_reclaim_continue out of
 * place ends the stream with FAILED_PRECONDITION / EPROTO (3.2); a reclaim whose parts add up to
 * more than the pager takes is refused with RESOURCE_EXHAUSTED / EAGAIN and a sentence; one the
 * pager cannot take at all is refused at its first part (ESTALE).
 */
class ReclaimPartsTest {
    private static final int PAGE = 4096;

    private static PagerConfig config(Path store) {
        return PagerConfig.loopback(Map.of("obj", 4096L * PAGE)).withLease(Duration.ofSeconds(60)).withStoreDir(store);
    }

    /** A restarted pager (in its grace period of a lease, 60 s) on {@code store}. */
    private static Pager restarted(Path store) throws Exception {
        try (Pager first = Pager.start(config(store))) {
            assertThat(first.status().getInGrace()).isFalse();
        }
        Pager pager = Pager.start(config(store));
        assertThat(pager.status().getInGrace()).isTrue();
        return pager;
    }

    private static KernelToPager hello(String name, boolean continues) {
        return ProbeKernel.hello(name).setKernelHello(ProbeKernel.hello(name).getKernelHello().toBuilder()
                .setProtocolVersion(continues ? 2 : 1) // xp-spec 2.3: a hello announcing parts is version 2
                .setReclaim(Reclaim.newBuilder().setKernelId(7).setContinues(continues).addObjects(ReclaimedObject
                        .newBuilder().setObjectId(1).setName("obj").setPageSize(PAGE)))).build();
    }

    private static KernelToPager part(boolean continues, int pages) {
        ReclaimedObject.Builder o = ReclaimedObject.newBuilder().setObjectId(1).setName("obj").setPageSize(PAGE);
        for (int i = 0; i < pages; i++) {
            o.addPages(ReclaimedPage.newBuilder().setOffset((long) i * PAGE).setAccess(VmProt.VM_PROT_NONE)
                    .setVersion(1).setData(ByteString.copyFrom(new byte[PAGE])));
        }
        return KernelToPager.newBuilder().setMemoryObjectReclaimContinue(MemoryObjectReclaimContinue.newBuilder()
                .addObjects(o).setContinues(continues)).build();
    }

    private static void endsWith(ProbeKernel k, io.grpc.Status.Code code, String errno) throws Exception {
        com.google.rpc.Status end = k.end.get(60, TimeUnit.SECONDS);
        assertThat(end.getCode()).as(end.getMessage()).isEqualTo(code.value());
        assertThat(ProbeKernel.reason(end)).as(end.getMessage()).isEqualTo(errno);
    }

    @Test
    void aPartAfterAWelcomeOrWithoutAnAnnouncedReclaimIsAProtocolBreach(@TempDir Path store) throws Exception {
        try (Pager pager = Pager.start(config(store))) {
            try (ProbeKernel k = ProbeKernel.welcomed(pager.target(), "fresh")) {
                k.send(part(false, 1));
                endsWith(k, io.grpc.Status.Code.FAILED_PRECONDITION, "EPROTO");
            }
            try (ProbeKernel k = new ProbeKernel(pager.target())) {
                k.send(part(false, 1)); // before any hello
                endsWith(k, io.grpc.Status.Code.FAILED_PRECONDITION, "EPROTO");
            }
        }
    }

    @Test
    void aPartAfterTheLastOrAfterAHelloThatAnnouncedNoneIsAProtocolBreach(@TempDir Path store) throws Exception {
        try (Pager pager = restarted(store)) {
            try (ProbeKernel k = new ProbeKernel(pager.target())) {
                k.send(hello("parted", true));
                k.send(part(false, 2)); // the last part: the reclaim is judged whole and welcomed
                assertThat(k.await(PagerToKernel::hasPagerWelcome).getPagerWelcome().getKernelId()).isEqualTo(7);
                k.send(part(false, 1));
                endsWith(k, io.grpc.Status.Code.FAILED_PRECONDITION, "EPROTO");
            }
            try (ProbeKernel k = new ProbeKernel(pager.target())) {
                k.send(ProbeKernel.hello("new").build()); // held until grace ends (60 s)
                k.send(part(false, 1));
                endsWith(k, io.grpc.Status.Code.FAILED_PRECONDITION, "EPROTO");
            }
        }
    }

    @Test
    void aReclaimInMorePartsThanThePagerTakesIsRefusedWithEagain(@TempDir Path store) throws Exception {
        try (Pager pager = restarted(store); ProbeKernel k = new ProbeKernel(pager.target())) {
            k.send(hello("many", true));
            for (int i = 0; i < 256; i++) {
                k.send(part(true, 0));
            }
            endsWith(k, io.grpc.Status.Code.RESOURCE_EXHAUSTED, "EAGAIN");
            assertThat(k.end.get().getMessage()).contains("more than 256 parts");
            assertThat(ProbeKernel.metadata(k.end.get())).as("no wait changes it: final (xp-spec 9.7)")
                    .containsEntry("final", "grace_period");
        }
    }

    @Test
    void aReclaimLargerInAllThanThePagerTakesIsRefusedWithEagain(@TempDir Path store) throws Exception {
        KernelToPager big = part(true, 850); // some 3.5 MB: within one message
        assertThat(big.getSerializedSize()).isLessThan(Pager.MAX_KERNEL_MESSAGE_BYTES);
        try (Pager pager = restarted(store); ProbeKernel k = new ProbeKernel(pager.target())) {
            k.send(hello("large", true));
            for (int sent = 0; sent <= (64 << 20) + big.getSerializedSize() && !k.end.isDone();
                    sent += big.getSerializedSize()) {
                k.send(big);
            }
            endsWith(k, io.grpc.Status.Code.RESOURCE_EXHAUSTED, "EAGAIN");
            assertThat(k.end.get().getMessage()).contains("more than " + (64 << 20) + " bytes")
                    .contains("read-only and clean");
        }
    }

    @Test
    void aReclaimInPartsOutsideAGracePeriodIsRefusedAtItsFirstPart(@TempDir Path store) throws Exception {
        try (Pager pager = Pager.start(config(store)); ProbeKernel k = new ProbeKernel(pager.target())) {
            k.send(hello("late", true)); // no further part: the refusal does not wait for the last
            endsWith(k, io.grpc.Status.Code.FAILED_PRECONDITION, "ESTALE");
        }
    }

    /**
     * A hello with both a resume and a reclaim in parts breaks XP (3.2's table, 9.4): EPROTO, also at
     * a pager that takes no reclaim, which answers a plain late reclaim ESTALE. Before, the ESTALE
     * shortcut came first and such a kernel was told to restart instead of that it broke XP
     * (review xpreview LOW-2).
     */
    @Test
    void aResumeWithAReclaimInPartsIsAProtocolBreachAlsoOutsideAGracePeriod(@TempDir Path store) throws Exception {
        try (Pager pager = Pager.start(config(store)); ProbeKernel k = new ProbeKernel(pager.target())) {
            KernelToPager parts = hello("both", true);
            k.send(parts.toBuilder().setKernelHello(parts.getKernelHello().toBuilder().setResumable(true)
                    .setResume(io.machxp.proto.xp.Resume.newBuilder().setKernelId(7).setSessionToken(42).setAttempt(1)))
                    .build());
            endsWith(k, io.grpc.Status.Code.FAILED_PRECONDITION, "EPROTO");
            assertThat(k.end.get().getMessage()).contains("both a resume and a reclaim in parts");
        }
    }

    /**
     * The version gate (xp-spec 2.3): the pager speaks version 2 (1 and the reclaim in parts) and
     * welcomes a version-2 hello as any other; a hello announcing parts under version 1 is a breach
     * (EPROTO) and nothing of it is kept, so no kernel can skip the gate. Before, version 2 was
     * refused and parts were taken under version 1.
     */
    @Test
    void aReclaimInPartsNeedsVersionTwoWhichThePagerSpeaks(@TempDir Path store) throws Exception {
        Path fresh = java.nio.file.Files.createDirectories(store.resolve("fresh")); // not in grace
        try (Pager pager = Pager.start(config(fresh)); ProbeKernel k = new ProbeKernel(pager.target())) {
            k.send(ProbeKernel.hello("fresh").setKernelHello(ProbeKernel.hello("fresh").getKernelHello().toBuilder()
                    .setProtocolVersion(2)).build());
            assertThat(k.await(PagerToKernel::hasPagerWelcome).getPagerWelcome().getKernelId()).isPositive();
        }
        try (Pager pager = restarted(store)) {
            try (ProbeKernel k = new ProbeKernel(pager.target())) {
                k.send(hello("one", true).toBuilder().setKernelHello(hello("one", true).getKernelHello().toBuilder()
                        .setProtocolVersion(1)).build());
                endsWith(k, io.grpc.Status.Code.FAILED_PRECONDITION, "EPROTO");
            }
            try (ProbeKernel k = new ProbeKernel(pager.target())) {
                k.send(hello("two", true));
                k.send(part(false, 1));
                assertThat(k.await(PagerToKernel::hasPagerWelcome).getPagerWelcome().getReclaimInParts()).isTrue();
            }
        }
    }
}
