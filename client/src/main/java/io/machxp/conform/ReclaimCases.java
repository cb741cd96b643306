package io.machxp.conform;

import static io.machxp.conform.PagerCases.must;

import com.google.protobuf.ByteString;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.Arrays;
import java.util.List;

/**
 * Cases of spec 9.4 / 9.5 on what a reclaim in one message names: each needs the target restarted
 * (--restart-cmd) and is skipped if the restarted target refuses reclaims (ESTALE).
 */
final class ReclaimCases {
    private ReclaimCases() {}

    /** Sends {@code r}'s reclaim hello and waits for its welcome; a Skipped if the target refuses reclaims. */
    static PagerWelcome reclaim(FakeKernel r, Reclaim.Builder reclaim) {
        r.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(r.name())
                .setProtocolVersion(1).setReclaim(reclaim)));
        try {
            return r.await("pager_welcome answering the reclaim (spec 9.4)", PagerToKernel::hasPagerWelcome)
                    .getPagerWelcome();
        } catch (Violation e) {
            if (r.ended() && r.errorInfo() != null && "ESTALE".equals(r.errorInfo().getReason())) {
                throw new Skipped("the restarted target refuses reclaims (ESTALE: a pager without stored pages, "
                        + "spec 9.2, or one that takes none, 9.4)");
            }
            throw e;
        }
    }

    static List<ConformCase<PagerProbe>> all() {
        return List.of(
                must("9.5-reclaim-page-named-twice", "a reclaim naming a page twice (the held entry, then the "
                        + "entry with data) is refused for that page: the kernel is told to drop it", p -> {
                    FakeKernel a = p.kernel("a");
                    PagerWelcome before = a.welcome();
                    long page = p.freshPage();
                    Check.Page written = p.write(a, page, "A asks to write the page it will reclaim");
                    p.restart();
                    byte[] data = new byte[p.pageSize()];
                    Arrays.fill(data, (byte) 0x3c);
                    FakeKernel r = p.open("a"); // A again, under its own name (a reclaim, spec 9.4)
                    reclaim(r, Reclaim.newBuilder().setKernelId(before.getKernelId()).addObjects(
                            ReclaimedObject.newBuilder().setObjectId(PagerProbe.OBJECT_ID).setName(p.object())
                                    .setPageSize(p.pageSize())
                                    .addPages(ReclaimedPage.newBuilder().setOffset(page)
                                            .setAccess(VmProt.VM_PROT_READ_WRITE).setVersion(written.version()))
                                    .addPages(ReclaimedPage.newBuilder().setOffset(page)
                                            .setAccess(VmProt.VM_PROT_NONE).setVersion(written.version() + 1)
                                            .setData(ByteString.copyFrom(data)))));
                    MemoryObjectLockRequest discard = Check.lockRequest(r, page, "the page the reclaim named twice "
                            + "is refused and the kernel told to drop it, whatever the order of its entries (spec 9.5)");
                    Check.that(discard.getShouldFlush() && discard.getLockValue() == VmProt.VM_PROT_NONE
                                    && discard.getShouldReturn() == ReturnPolicy.RETURN_NONE && !discard.getReply(),
                            "the lock_request telling the kernel to drop a refused page must be "
                                    + "lock_request(RETURN_NONE, flush, lock NONE, no reply) (spec 9.5), got " + discard);
                    FakeKernel b = p.kernel("b"); // welcomed when grace ends
                    Check.Page got = p.read(b, page, "B reads the page the reclaim was refused (the kernel that named "
                            + "it twice holds nothing of it, spec 9.5)");
                    Check.that(Arrays.equals(got.data(), written.data()), "B must get the pager's copy of the page, "
                            + "not the repeated entry's data (the repeat's data is not taken, spec 9.5): got version "
                            + got.version() + (Arrays.equals(got.data(), data) ? " with the repeat's 0x3c data"
                                    : " with data differing from the copy A was given"));
                }).restarting(),
                must("9.4-reclaim-again", "a kernel whose reclaim was welcomed but whose stream broke (the welcome "
                        + "lost) reclaims again under the same name and id, and is welcomed again: the page it names "
                        + "is its own", p -> {
                    FakeKernel a = p.kernel("a");
                    PagerWelcome before = a.welcome();
                    long page = p.freshPage();
                    Check.Page written = p.write(a, page, "A asks to write the page it will reclaim");
                    p.restart();
                    Reclaim.Builder account = Reclaim.newBuilder().setKernelId(before.getKernelId()).addObjects(
                            ReclaimedObject.newBuilder().setObjectId(PagerProbe.OBJECT_ID).setName(p.object())
                                    .setPageSize(p.pageSize()).addPages(ReclaimedPage.newBuilder().setOffset(page)
                                            .setAccess(VmProt.VM_PROT_READ_WRITE).setVersion(written.version())));
                    FakeKernel first = p.open("r");
                    reclaim(first, account);
                    first.breakStream(); // the welcome is treated as lost: the kernel has no session token
                    PagerWelcome again = null;
                    for (int attempt = 1; again == null; attempt++) {
                        FakeKernel r = p.open("r"); // the same name
                        r.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(
                                r.name()).setProtocolVersion(1).setReclaim(account)));
                        PagerToKernel m = null;
                        try {
                            m = r.await("pager_welcome answering the reclaim again (spec 9.4, Again)",
                                    PagerToKernel::hasPagerWelcome);
                        } catch (Violation e) {
                            if (!r.ended()) {
                                throw e;
                            }
                        }
                        if (m != null) {
                            again = m.getPagerWelcome();
                            Check.that(again.getKernelId() == before.getKernelId(), "the reclaim again must be "
                                    + "welcomed with the kernel id it names, " + before.getKernelId() + ", got "
                                    + again.getKernelId() + " (spec 9.4)");
                            FakeKernel b = p.kernel("b"); // welcomed when grace ends
                            b.send(Messages.dataRequest(PagerProbe.OBJECT_ID, page, p.pageSize(),
                                    VmProt.VM_PROT_READ_WRITE));
                            Check.lockRequest(r, page, "B asks to write the page the reclaim again named: the "
                                    + "kernel that reclaimed it again holds it, so the pager asks it for the page "
                                    + "(spec 9.4, 6.2)");
                            break;
                        }
                        String errno = r.errorInfo() == null ? null : r.errorInfo().getReason();
                        Check.that("EAGAIN".equals(errno) && attempt < 100, "a reclaim again, after the stream of "
                                + "the welcomed one broke, must be taken (spec 9.4, Again; EAGAIN while the pager has "
                                + "not yet seen that stream end); attempt " + attempt + " ended: "
                                + FakeKernel.describe(r.awaitEnd("the reclaim again's end")));
                    }
                }).restarting());
    }
}
