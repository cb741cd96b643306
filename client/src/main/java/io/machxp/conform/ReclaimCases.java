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
import io.grpc.Status;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * Cases of spec 9.4 / 9.5 on what a reclaim in one message names: each needs the target restarted
 * (--restart-cmd) and is skipped if the restarted target refuses reclaims (ESTALE), or refused one a
 * lease or more after the restart began (its grace period may have ended: the case runs again).
 */
final class ReclaimCases {
    private ReclaimCases() {}

    /**
     * Sends {@code r}'s reclaim hello and waits for its welcome; a Skipped if the target refuses
     * reclaims, or refused this one late enough to have left its grace period ({@link PagerProbe#reclaimRefused}).
     */
    static PagerWelcome reclaim(PagerProbe p, FakeKernel r, Reclaim.Builder reclaim) {
        r.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(r.name())
                .setProtocolVersion(1).setReclaim(reclaim)));
        try {
            return r.await("pager_welcome answering the reclaim (spec 9.4)", PagerToKernel::hasPagerWelcome)
                    .getPagerWelcome();
        } catch (Violation e) {
            if (r.ended() && r.errorInfo() != null && "ESTALE".equals(r.errorInfo().getReason())) {
                throw p.reclaimRefused();
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
                    reclaim(p, r, Reclaim.newBuilder().setKernelId(before.getKernelId()).addObjects(
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
                        + "lost) reclaims again under the same name, id and boot, a newer attempt, and is welcomed "
                        + "again: the page it names is its own, the page only the first reclaim named is released",
                        p -> {
                    Account acc = Account.of(p);
                    FakeKernel first = p.open("a"); // A again, under its own name (a reclaim, spec 9.4)
                    reclaim(p, first, acc.reclaim(1, true));
                    first.breakStream(); // the welcome is treated as lost: the kernel has no session token
                    FakeKernel r = takenAgain(p, acc, 2);
                    acc.judged(p, r);
                }).restarting(),
                must("9.4-reclaim-again-earlier-attempt", "a late earlier attempt of a reclaim, arriving after a "
                        + "newer one was welcomed and its stream broke, is refused (ESTALE) and the newer session "
                        + "stays; the kernel's next attempt is taken", p -> {
                    Account acc = Account.of(p);
                    FakeKernel newer = p.open("a");
                    reclaim(p, newer, acc.reclaim(2, true)); // attempt 1 is still in the network
                    newer.breakStream();
                    String got = null;
                    long deadline = acc.retryDeadline(p);
                    for (int tries = 1; got == null; tries++, pause(acc.leaseMillis())) {
                        FakeKernel late = p.open("a");
                        late.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder()
                                .setKernelName(late.name()).setProtocolVersion(1).setReclaim(acc.reclaim(1, false))));
                        Status end = late.awaitEnd("the end of the late earlier attempt (spec 9.4, Again: ESTALE)");
                        String errno = late.errorInfo() == null ? null : late.errorInfo().getReason();
                        Check.that(!late.drain().stream().anyMatch(PagerToKernel::hasPagerWelcome), "the late "
                                + "attempt 1, after attempt 2 was welcomed, must not be welcomed (spec 9.4, Again): "
                                + "its older account would replace the newer one");
                        if (!"EAGAIN".equals(errno) || !retryMore(deadline, tries)) {
                            got = errno == null ? FakeKernel.describe(end) : errno;
                        }
                    }
                    Check.that("ESTALE".equals(got), "the late earlier attempt must end with FAILED_PRECONDITION / "
                            + "ESTALE (spec 9.4, Again), got " + got);
                    FakeKernel r = takenAgain(p, acc, 3);
                    acc.judged(p, r);
                }).restarting());
    }

    /**
     * Between attempts that the pager told to try again (EAGAIN): a twentieth of the lease, as a
     * kernel paces its reclaims again (spec 9.7; machxp's kernel: every L/20), 50 ms without a lease.
     */
    private static void pause(long leaseMillis) {
        try {
            Thread.sleep(leaseMillis > 0 ? Math.max(1, leaseMillis / 20) : 50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Violation("interrupted between reclaim attempts");
        }
    }

    /**
     * The least number of tries of a reclaim told EAGAIN, whatever the clock: on a loaded machine one
     * try (a stream, a hello, its answer) may take the whole time the grace period allows.
     */
    static final int MIN_TRIES = 5;

    /** Whether a reclaim told EAGAIN {@code tries} times is tried again, before {@code deadline} (nanoTime). */
    private static boolean retryMore(long deadline, int tries) {
        return tries < MIN_TRIES || System.nanoTime() <= deadline;
    }

    /**
     * Kernel a's account for a reclaim again: the page it wrote (held writable) and, in its first
     * reclaim only, a second page it has given back since; its boot and kernel id.
     */
    private record Account(long kernelId, long boot, String object, int pageSize, long page, Check.Page written,
            long released, Check.Page releasedWritten, long leaseMillis) {
        static Account of(PagerProbe p) throws Exception {
            FakeKernel a = p.kernel("a");
            PagerWelcome before = a.welcome();
            long page = p.freshPage();
            Check.Page written = p.write(a, page, "A asks to write the page it will reclaim");
            long released = p.freshPage();
            Check.Page releasedWritten = p.write(a, released, "A asks to write a page it gives back before its "
                    + "reclaim again");
            p.restart();
            long boot = new java.security.SecureRandom().nextLong() | 1;
            return new Account(before.getKernelId(), boot, p.object(), p.pageSize(), page, written, released,
                    releasedWritten, before.getLeaseMillis());
        }

        /** The reclaim of attempt {@code attempt}; {@code withReleased}: it names the second page too. */
        Reclaim.Builder reclaim(long attempt, boolean withReleased) {
            ReclaimedObject.Builder o = ReclaimedObject.newBuilder().setObjectId(PagerProbe.OBJECT_ID)
                    .setName(object).setPageSize(pageSize)
                    .addPages(ReclaimedPage.newBuilder().setOffset(page).setAccess(VmProt.VM_PROT_READ_WRITE)
                            .setVersion(written.version()));
            if (withReleased) {
                o.addPages(ReclaimedPage.newBuilder().setOffset(released).setAccess(VmProt.VM_PROT_READ_WRITE)
                        .setVersion(releasedWritten.version()));
            }
            return Reclaim.newBuilder().setKernelId((int) kernelId).setBootNonce(boot).setAttempt(attempt)
                    .addObjects(o);
        }

        /**
         * Until when (System.nanoTime) the kit tries a reclaim told EAGAIN again: two leases from the
         * restart's beginning, and half a lease from now at least. The pager's EAGAIN ends with its
         * grace period (a lease after its start here, spec 9.2; ESTALE after, which a lease or more
         * after the restart began is a SKIP, {@link PagerProbe#lateRefusal}), so the second lease is
         * slack for a loaded machine; {@link #retryMore} adds a least number of tries.
         */
        long retryDeadline(PagerProbe p) {
            long lease = Math.max(1, leaseMillis);
            long left = 2 * lease - Math.max(0, p.millisSinceRestart());
            return System.nanoTime() + Math.max(left, Math.max(1, lease / 2)) * 1_000_000L;
        }

        /**
         * After the reclaim again on {@code r} was welcomed: B, welcomed when grace ends, writes the
         * page only the first reclaim named and is served without the pager asking r for it (the
         * reclaim again is the complete account, spec 9.4), then asks to write the page the reclaim
         * again named, and the pager asks r for it (spec 9.4, 6.2).
         */
        void judged(PagerProbe p, FakeKernel r) {
            FakeKernel b = p.kernel("b");
            r.sync(); // r's lease runs on (a kernel keeps alive)
            // Served while r answers nothing and keeps alive: the pager does not need r's page. A pager
            // that still counted it as r's (the first reclaim's holds kept) asks r for it first and keeps
            // B waiting until r answers or dies: caught at that lock_request, before r's lease is at risk.
            b.send(Messages.dataRequest(PagerProbe.OBJECT_ID, released, pageSize, VmProt.VM_PROT_READ_WRITE));
            Predicate<PagerToKernel> bServed = m -> m.hasMemoryObjectDataSupply()
                    && m.getMemoryObjectDataSupply().getOffset() == released
                    || m.hasMemoryObjectDataUnavailable() && m.getMemoryObjectDataUnavailable().getOffset() == released;
            long until = System.nanoTime() + Math.max(1, leaseMillis) * 1_000_000L;
            while (!b.holds(bServed) && System.nanoTime() < until) {
                r.sync();
                Check.that(!r.holds(m -> m.hasMemoryObjectLockRequest()
                                && m.getMemoryObjectLockRequest().getOffset() == released),
                        "the page only the first reclaim named must be released by the reclaim again (it is the "
                                + "kernel's complete account, spec 9.4, Again): the pager asked the kernel that "
                                + "reclaimed again for it (lock_request) before serving B, so it still counted the "
                                + "first reclaim's holds as that kernel's");
                pause(leaseMillis);
            }
            Check.supplied(b, released, pageSize, "B writes the page only the first reclaim named: the reclaim again "
                    + "is the kernel's complete account, so the page is nobody's (spec 9.4, Again)");
            r.sync();
            b.send(Messages.dataRequest(PagerProbe.OBJECT_ID, page, pageSize, VmProt.VM_PROT_READ_WRITE));
            Check.lockRequest(r, page, "B asks to write the page the reclaim again named: the kernel that reclaimed "
                    + "it again holds it, so the pager asks it for the page (spec 9.4, 6.2)");
        }
    }

    /**
     * Reclaims {@code acc} again as attempt {@code attempt} under kernel a's name until it is
     * welcomed, on EAGAIN after a pause (the pager has not seen the earlier stream end), as long as
     * {@link Account#retryDeadline} and {@link #retryMore} allow; returns the welcomed kernel. A
     * refusal (ESTALE) a lease or more after the restart began is a SKIP (the grace period may have
     * ended, {@link PagerProbe#lateRefusal}); sooner, inside the grace period of a pager that took the
     * kernel's first reclaim, it fails the case.
     */
    private static FakeKernel takenAgain(PagerProbe p, Account acc, long attempt) {
        long start = System.nanoTime();
        long deadline = acc.retryDeadline(p);
        for (int tries = 1;; tries++, pause(acc.leaseMillis())) {
            FakeKernel r = p.open("a");
            PagerWelcome m = null;
            try {
                // Welcomed, r keeps alive from then on (as a kernel does): its lease must not run out
                // while the case waits for B, whose hello waits for the grace period's end.
                m = r.hello(KernelHello.newBuilder().setKernelName(r.name()).setProtocolVersion(1)
                        .setReclaim(acc.reclaim(attempt, false)).build());
            } catch (Violation e) {
                if (!r.ended()) {
                    throw e;
                }
            }
            if (m != null) {
                Check.that(m.getKernelId() == acc.kernelId(), "the reclaim again must be welcomed "
                        + "with the kernel id it names, " + acc.kernelId() + ", got " + m.getKernelId()
                        + " (spec 9.4)");
                return r;
            }
            String errno = r.errorInfo() == null ? null : r.errorInfo().getReason();
            Check.that(!"EAGAIN".equals(errno) || !"grace_period".equals(r.errorInfo().getMetadataOrDefault("final", "")),
                    "the EAGAIN of a reclaim again while the pager has not yet seen the welcomed one's stream end "
                    + "must not be marked final (ErrorInfo metadata final=grace_period, spec 9.7): a wait changes it");
            if ("ESTALE".equals(errno)) {
                Skipped late = p.lateRefusal("the reclaim again (attempt " + attempt + ", after " + tries
                        + (tries == 1 ? " try" : " tries") + ")");
                if (late != null) {
                    throw late;
                }
            }
            if (!"EAGAIN".equals(errno) || !retryMore(deadline, tries)) {
                String why = "ESTALE".equals(errno)
                        ? "it was refused (ESTALE) " + p.millisSinceRestart() + " ms after the restart began, less "
                                + "than a lease (" + acc.leaseMillis() + " ms): inside the grace period of a pager that "
                                + "took the kernel's first reclaim"
                        : "EAGAIN".equals(errno)
                                ? "it was still told EAGAIN after " + tries + " tries over "
                                        + (System.nanoTime() - start) / 1_000_000 + " ms (the pager must see the "
                                        + "broken stream's end while its grace period runs)"
                                : "it was refused on try " + tries;
                throw new Violation("a reclaim again (attempt " + attempt + "), after the stream of the welcomed one "
                        + "broke, must be taken (spec 9.4, Again; EAGAIN only while the pager has not yet seen that "
                        + "stream end); " + why + "; it ended: "
                        + FakeKernel.describe(r.awaitEnd("the reclaim again's end")));
            }
        }
    }
}
