package io.machxp.conform;

import static io.machxp.conform.PagerCases.must;
import static io.machxp.conform.PagerCases.should;
import static io.machxp.conform.PagerProbe.OBJECT_ID;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.MemoryObjectSupplyCompleted;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.List;

/**
 * Pager cases of the rest of Mach's memory_object interface: ranges (spec 6.2, 6.4), precious
 * pages and supply_completed (6.10), and what a pager may send only to a kernel whose hello names
 * it (6.12). A case of an optional feature the target does not use is skipped.
 */
final class MachPageCases {
    private static final int RUN = 3;

    private MachPageCases() {}

    static List<ConformCase<PagerProbe>> all() {
        return List.of(
                must("6.2-request-range", "a data_request of several pages is answered for every page of it", p -> {
                    FakeKernel k = p.kernel("a");
                    long first = run(p);
                    k.send(Messages.dataRequest(OBJECT_ID, first, RUN * (long) p.pageSize(), VmProt.VM_PROT_READ));
                    answered(p, k, first, "a read of " + RUN + " pages");
                }),
                must("6.4-lock-range", "lock_requests to a kernel with lock_ranges are whole pages; one "
                        + "lock_completed per request completes each page of it", p -> writerFlushed(p, true,
                        (r, run) -> Check.that(r.getLength() > 0 && r.getLength() % p.pageSize() == 0
                                && r.getOffset() >= run[0] && r.getOffset() + r.getLength() <= run[0] + run[1],
                                "a lock_request must cover whole pages of what it takes (spec 6.4): " + r))),
                must("6.4-ranges-only-announced", "a kernel whose hello does not name lock_ranges gets lock_requests "
                        + "of one page", p -> writerFlushed(p, false, (r, run) -> Check.that(r.getLength()
                        == p.pageSize(), "A did not name lock_ranges: every lock_request must be one page (spec 6.4, "
                        + "6.12): " + r))),
                must("6.10-precious-only-announced", "a kernel whose hello does not name precious gets no precious "
                        + "page and no supply with reply", p -> {
                    FakeKernel k = p.kernel("a");
                    long first = run(p);
                    k.send(Messages.dataRequest(OBJECT_ID, first, RUN * (long) p.pageSize(), VmProt.VM_PROT_READ));
                    for (PagerToKernel m : answered(p, k, first, "a read of " + RUN + " pages")) {
                        Check.that(!m.hasMemoryObjectDataSupply() || !m.getMemoryObjectDataSupply().getPrecious()
                                && !m.getMemoryObjectDataSupply().getReply(), "precious and reply only to a kernel "
                                + "that named precious (spec 6.10, 6.12): " + Messages.describe(m));
                    }
                }),
                should("6.10-precious-return", "(if the pager supplies precious pages) supply_completed is taken, "
                        + "and a clean precious page given back with its data is the kernel's no more", p -> {
                    FakeKernel a = p.kernel("a", "precious");
                    long page = p.freshPage();
                    a.send(Messages.dataRequest(OBJECT_ID, page, p.pageSize(), VmProt.VM_PROT_READ));
                    PagerToKernel m = a.await("data_supply or data_unavailable at 0x" + Long.toHexString(page),
                            x -> Check.isPageAnswer(x, page));
                    if (!m.hasMemoryObjectDataSupply() || !m.getMemoryObjectDataSupply().getPrecious()) {
                        throw new Skipped("the target supplies no precious pages (optional, spec 6.10)");
                    }
                    var s = m.getMemoryObjectDataSupply();
                    if (s.getReply()) {
                        a.send(KernelToPager.newBuilder().setMemoryObjectSupplyCompleted(MemoryObjectSupplyCompleted
                                .newBuilder().setObjectId(OBJECT_ID).setOffset(page).setLength(s.getData().size())));
                    }
                    a.send(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                            .setObjectId(OBJECT_ID).setOffset(page).setData(s.getData().substring(0, p.pageSize()))
                            .setVersion(s.getVersion())));
                    FakeKernel b = p.kernel("b");
                    b.send(Messages.dataRequest(OBJECT_ID, page, p.pageSize(), VmProt.VM_PROT_READ_WRITE));
                    Check.supplied(b, page, p.pageSize(), "B writes the page A gave back");
                    a.expectNone("A gave the page back: no lock_request for it (spec 6.5, 6.10)",
                            x -> x.hasMemoryObjectLockRequest() && x.getMemoryObjectLockRequest().getOffset() == page);
                }));
    }

    /**
     * Kernel A (naming lock_ranges or not) writes a run of pages, then kernel B asks to write them
     * with one data_request: each lock_request A gets is checked (with the run's first offset and
     * length), answered with lock_completed of its range, and B must then get every page writable.
     */
    private static void writerFlushed(PagerProbe p, boolean ranges,
            java.util.function.BiConsumer<MemoryObjectLockRequest, long[]> check) {
        FakeKernel a = ranges ? p.kernel("a", "lock_ranges") : p.kernel("a");
        FakeKernel b = p.kernel("b");
        long first = run(p);
        long length = RUN * (long) p.pageSize();
        a.send(Messages.dataRequest(OBJECT_ID, first, length, VmProt.VM_PROT_READ_WRITE));
        answered(p, a, first, "A writes " + RUN + " pages");
        b.send(Messages.dataRequest(OBJECT_ID, first, length, VmProt.VM_PROT_READ_WRITE));
        for (MemoryObjectLockRequest r : flushes(p, a, first)) {
            check.accept(r, new long[] {first, length});
            a.send(Messages.lockCompleted(OBJECT_ID, r.getOffset(), r.getLength()));
        }
        for (PagerToKernel m : answered(p, b, first, "B writes the pages A wrote, once A answered")) {
            VmProt lock = m.hasMemoryObjectDataSupply() ? m.getMemoryObjectDataSupply().getLockValue()
                    : m.getMemoryObjectDataUnavailable().getLockValue();
            Check.that(lock == VmProt.VM_PROT_NONE, "B asked write access (spec 6.2): " + Messages.describe(m));
        }
    }

    /**
     * The first of {@link #RUN} consecutive pages no other case uses (fresh pages wrap around at the
     * object's end: a run that would wrap is taken again from its start); skipped if the object has
     * too few pages.
     */
    private static long run(PagerProbe p) {
        for (int attempt = 0; attempt < 2; attempt++) {
            long first = p.freshPage();
            boolean consecutive = true;
            for (int i = 1; i < RUN; i++) {
                consecutive &= p.freshPage() == first + (long) i * p.pageSize();
            }
            if (consecutive) {
                return first;
            }
        }
        throw new Skipped("the object has fewer than " + RUN + " pages; name a larger one with --object");
    }

    /** The answers to a {@link #RUN}-page request at {@code first}: every page covered once. */
    private static List<PagerToKernel> answered(PagerProbe p, FakeKernel k, long first, String why) {
        List<PagerToKernel> got = new ArrayList<>();
        long end = first + RUN * (long) p.pageSize();
        for (long at = first; at < end; ) {
            long page = at;
            PagerToKernel m = k.await("data_supply or data_unavailable at 0x" + Long.toHexString(page) + ": " + why,
                    x -> x.hasMemoryObjectDataSupply() && x.getMemoryObjectDataSupply().getOffset() == page
                            || x.hasMemoryObjectDataUnavailable() && x.getMemoryObjectDataUnavailable().getOffset() == page);
            long length = m.hasMemoryObjectDataSupply() ? m.getMemoryObjectDataSupply().getData().size()
                    : m.getMemoryObjectDataUnavailable().getLength();
            Check.that(length > 0 && length % p.pageSize() == 0, "a page answer must be whole pages (spec 6.2): "
                    + Messages.describe(m));
            got.add(m);
            at += length;
        }
        return got;
    }

    /** The flushes A gets for the {@link #RUN} pages at {@code first}, until they cover them all. */
    private static List<MemoryObjectLockRequest> flushes(PagerProbe p, FakeKernel a, long first) {
        List<MemoryObjectLockRequest> all = new ArrayList<>();
        long covered = 0;
        while (covered < RUN * (long) p.pageSize()) {
            MemoryObjectLockRequest r = a.await("lock_request taking the pages A writes (spec 6.1, 6.4)",
                    m -> m.hasMemoryObjectLockRequest()).getMemoryObjectLockRequest();
            Check.that(r.getShouldFlush() && r.getReply(), "B asked write access: A's pages must be flushed, with "
                    + "reply (spec 6.1, 6.4): " + r);
            all.add(r);
            covered += Math.max(r.getLength(), p.pageSize());
        }
        return all;
    }
}
