package io.machxp.conform;

import static io.machxp.conform.PagerCases.must;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectReclaimContinue;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.util.Arrays;
import java.util.List;

/**
 * Cases of spec 9.4's reclaim in parts: a kernel_hello of protocol version 2 whose reclaim says
 * {@code continues}, then memory_object_reclaim_continue messages. Each is skipped for a target whose
 * welcome does not say {@code reclaim_in_parts} (a pager that takes no parts, such as the Python
 * example: a kernel sends it its reclaim in one message), except the version gate (spec 2.3), which
 * such a pager passes by refusing version 2.
 */
final class ReclaimPartCases {
    private ReclaimPartCases() {}

    /** The welcome of {@code k}; a Skipped unless it says the target takes a reclaim in parts. */
    private static PagerWelcome takesParts(FakeKernel k) {
        PagerWelcome w = k.welcome();
        if (!w.getReclaimInParts()) {
            throw new Skipped("the target's welcome does not say reclaim_in_parts: it takes a reclaim in one message "
                    + "only (spec 9.4)");
        }
        return w;
    }

    private static KernelToPager.Builder part(ReclaimedObject.Builder objects, boolean continues) {
        return KernelToPager.newBuilder().setMemoryObjectReclaimContinue(MemoryObjectReclaimContinue.newBuilder()
                .addObjects(objects).setContinues(continues));
    }

    private static ReclaimedObject.Builder object(PagerProbe p) {
        return ReclaimedObject.newBuilder().setObjectId(PagerProbe.OBJECT_ID).setName(p.object())
                .setPageSize(p.pageSize());
    }

    static List<ConformCase<PagerProbe>> all() {
        return List.of(
                must("2.3-parts-version-2", "a pager speaks protocol version 2 exactly when its welcome says "
                        + "reclaim_in_parts: a version-2 hello is welcomed by a pager that takes parts, and refused "
                        + "(UNIMPLEMENTED / EPROTONOSUPPORT) by one that does not", p -> {
                    boolean parts = p.kernel("probe").welcome().getReclaimInParts();
                    FakeKernel k = p.open("v2");
                    k.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(k.name())
                            .setProtocolVersion(2)));
                    if (parts) {
                        k.await("pager_welcome to a version-2 hello from a pager that says reclaim_in_parts "
                                + "(spec 2.3)", PagerToKernel::hasPagerWelcome);
                    } else {
                        Check.endedWith(k, Status.Code.UNIMPLEMENTED, "EPROTONOSUPPORT", "a version-2 hello to a "
                                + "pager whose welcome does not say reclaim_in_parts (spec 2.3: a kernel's reclaim "
                                + "in parts must be refused by it before anything is recorded)");
                    }
                }),
                must("9.4-reclaim-parts-need-version-2", "a hello announcing a reclaim in parts under protocol "
                        + "version 1 is a breach of XP: FAILED_PRECONDITION / EPROTO", p -> {
                    takesParts(p.kernel("probe"));
                    FakeKernel a = p.open("a");
                    a.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(a.name())
                            .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(1).setContinues(true)
                                    .addObjects(object(p)))));
                    a.send(part(object(p), false));
                    Check.endedWith(a, Status.Code.FAILED_PRECONDITION, "EPROTO",
                            "a reclaim in parts in a version-1 hello (spec 2.3, 9.4)");
                }),
                must("9.4-reclaim-part-out-of-place", "a memory_object_reclaim_continue after the welcome (no reclaim "
                        + "in parts under way) is a breach of XP: FAILED_PRECONDITION / EPROTO", p -> {
                    FakeKernel a = p.kernel("a");
                    takesParts(a);
                    a.send(part(object(p), false));
                    Check.endedWith(a, Status.Code.FAILED_PRECONDITION, "EPROTO",
                            "a memory_object_reclaim_continue on a welcomed session (spec 3.2, 9.4)");
                }),
                must("9.4-reclaim-parts-refused-running", "a reclaim in parts to a pager that is not in a grace period "
                        + "is refused: FAILED_PRECONDITION / ESTALE", p -> {
                    takesParts(p.kernel("probe"));
                    FakeKernel a = p.open("a");
                    a.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(a.name())
                            .setProtocolVersion(2).setReclaim(Reclaim.newBuilder().setKernelId(1).setContinues(true)
                                    .addObjects(object(p)))));
                    a.send(part(object(p), false));
                    Check.endedWith(a, Status.Code.FAILED_PRECONDITION, "ESTALE",
                            "a reclaim in parts outside a grace period (spec 9.4)");
                }),
                must("9.4-reclaim-in-parts", "after a restart, a reclaim in two parts is taken whole: the welcome comes "
                        + "after the last part, and a page given again in the second part is the pager's copy", p -> {
                    FakeKernel a = p.kernel("a");
                    PagerWelcome before = takesParts(a);
                    long page = p.freshPage();
                    Check.Page written = p.write(a, page, "A asks to write the page it will reclaim");
                    p.restart(); // A's stream breaks: its write, never confirmed, is reclaimed below
                    byte[] data = new byte[p.pageSize()];
                    Arrays.fill(data, (byte) 0x5a);
                    FakeKernel r = p.open("a"); // A again, under its own name (a reclaim, spec 9.4)
                    r.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(r.name())
                            .setProtocolVersion(2).setReclaim(Reclaim.newBuilder().setKernelId(before.getKernelId())
                                    .setContinues(true).addObjects(object(p)))));
                    r.send(part(object(p).addPages(ReclaimedPage.newBuilder().setOffset(page)
                            .setAccess(VmProt.VM_PROT_NONE).setVersion(written.version() + 1)
                            .setData(ByteString.copyFrom(data))), false));
                    PagerToKernel w;
                    try {
                        w = r.await("pager_welcome answering the reclaim's last part (spec 9.4)",
                                PagerToKernel::hasPagerWelcome);
                    } catch (Violation e) {
                        if (r.ended() && r.errorInfo() != null && "ESTALE".equals(r.errorInfo().getReason())) {
                            throw p.reclaimRefused();
                        }
                        throw e;
                    }
                    Check.that(w.getPagerWelcome().getKernelId() == before.getKernelId(), "the welcome to a reclaim must "
                            + "give the id reclaimed (" + before.getKernelId() + "), it gave "
                            + w.getPagerWelcome().getKernelId() + " (spec 9.4)");
                    FakeKernel b = p.kernel("b"); // welcomed when grace ends
                    Check.Page got = p.read(b, page, "the page reclaimed in the second part (spec 9.4, 9.5)");
                    Check.that(Arrays.equals(got.data(), data) && got.version() == written.version() + 1,
                            "B must get the data reclaimed in the reclaim's second part at version "
                                    + (written.version() + 1) + ", got version " + got.version());
                }).restarting());
    }
}
