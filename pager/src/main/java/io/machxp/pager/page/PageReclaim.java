package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import io.machxp.pager.object.MemoryObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.io.UncheckedIOException;
import java.util.Set;

/**
 * The pages a reconnecting kernel reclaims after a pager restart, for {@link PageCoherence}:
 * <pre>
 *  newer data than the pager's copy   -> becomes the copy (a return lost in the crash)
 *  READ / READ_WRITE, no conflict     -> the kernel holds the page as a reader / the writer
 *  conflict (another writer, others   -> refused; lock_request(RETURN_NONE, flush) tells the
 *    holding it for a write, named       kernel to drop the page without its data; it holds
 *    twice, older copy, a read-only      nothing
 *    copy newer than the pager's
 *    without its data, bad data, a
 *    version 2^63 or more, or more
 *    than 2^32 above the pager's)
 *  NONE (data only)                   -> holds nothing
 *  version 0 (unversioned)            -> see {@link #unversioned}: a writable copy stands; data
 *                                        that cannot be judged is not taken and ends the session
 *  the page's version unreadable      -> data given back kept in memory, judged when the store
 *                                        can be read; READ_WRITE stays the kernel's; READ dropped;
 *                                        data kept so already is the copy to compare with: data
 *                                        not newer is not taken, an older READ_WRITE refused
 * </pre>
 * The pager's coherence is kept whatever a kernel says. Pager core thread only.
 */
final class PageReclaim {
    private final int pageSize;
    private final PageOutput out;
    private final PageTable table;
    private final PageChecks checks;

    PageReclaim(int pageSize, PageOutput out, PageTable table, PageChecks checks) {
        this.pageSize = pageSize;
        this.out = out;
        this.table = table;
        this.checks = checks;
    }

    /**
     * A page a reconnecting kernel holds, or gave back without knowing whether the pager took it
     * ({@code named}: the pages of the object its reclaim named before; a page named twice is
     * refused, and not held, whatever the entries said and in whatever order: the kernel is told
     * to drop it, and its data is not taken).
     * Data newer than the pager's copy becomes the copy (a return lost in the crash); then the
     * kernel holds the page with the access it says, unless that conflicts with what others
     * reclaimed or its copy is older than the pager's: then it is refused and the kernel is told
     * to drop the page (the pager's coherence is kept whatever a kernel says).
     *
     * @return whether the entry was taken (false: refused, the kernel told to drop the page if it held it)
     */
    boolean reclaim(KernelSession s, MemoryObject o, ReclaimedPage r, Set<Long> named, java.util.List<String> lost) {
        String routine = "a reclaim";
        if (!checks.pageOf(o, r.getOffset())) {
            out.refuse(s, routine + " of a page at 0x" + Long.toHexString(r.getOffset()) + ", which is not a page of '"
                    + o.name() + "'");
            return false;
        }
        PageRecord p = table.record(o, r.getOffset());
        boolean write = r.getAccess() == VmProt.VM_PROT_READ_WRITE;
        boolean held = write || r.getAccess() == VmProt.VM_PROT_READ;
        boolean twice = !named.add(p.offset());
        if (twice) {
            p.drop(s); // whatever an earlier entry said: the kernel is told to drop it
        }
        String conflict = !held && r.getAccess() != VmProt.VM_PROT_NONE ? "access " + r.getAccess()
                + " is not NONE, READ or READ_WRITE"
                : twice ? "it names the page twice"
                : p.writer != null && p.writer != s ? "kernel " + p.writer.kernelName + " holds it writable"
                : write && !p.holdersExcept(s).isEmpty() ? "other kernels hold it"
                : !r.getData().isEmpty() && r.getData().size() != pageSize ? "its data is " + r.getData().size()
                        + " bytes; a page is " + pageSize
                : !PageVersions.inRange(r.getVersion()) ? "its version " + Long.toUnsignedString(r.getVersion())
                        + " is not below 2^63"
                : null;
        long stored = 0;
        if (conflict == null) {
            try {
                stored = o.version(p.offset());
            } catch (UncheckedIOException e) {
                return unjudged(s, p, r, write, e);
            }
        }
        if (conflict == null && r.getVersion() == 0) {
            return unversioned(s, p, r, write, held, stored, lost);
        }
        if (conflict == null && r.getVersion() > stored && (!r.getData().isEmpty() || held)) {
            String far = PageVersions.outOfRange(r.getVersion(), stored);
            conflict = far == null ? null : "its " + far;
        }
        if (conflict == null && !r.getData().isEmpty() && r.getVersion() > stored) {
            out.storeWrite(s, o, p.offset(), PageBytes.array(r.getData()), r.getVersion(), // its return was lost in the crash
                    "the data " + s + " reclaimed for " + p + " is kept in memory only");
        } else if (conflict == null && held && r.getVersion() < stored) {
            conflict = "its copy (version " + r.getVersion() + ") is older than the pager's (version " + stored + ")";
        } else if (conflict == null && !write && r.getData().isEmpty() && r.getVersion() > stored) {
            // That version was lost (its return neither written nor kept by its kernel, or the
            // machine went down): the others are served the store's page. A writer keeps its copy,
            // which it gives back whole when it leaves.
            conflict = "its read-only copy (version " + r.getVersion() + ") is newer than the pager's (version "
                    + stored + ") and came without its data";
        }
        if (conflict != null) {
            // A page named twice: an earlier entry may have held it (the held entry, then the one
            // with the data), so the kernel is told to drop it whatever this entry says.
            boolean discard = held || twice;
            out.refuse(s, routine + " of " + p + ": " + conflict + (discard ? "; the kernel is told to drop it" : ""));
            if (discard) {
                p.drop(s); // an earlier entry of the same reclaim may have named it: the kernel holds nothing now
                out.send(s, PageMessages.discard(s.objectIdOf(o.name()), p.offset(), pageSize));
            }
            table.pruneIfIdle(p);
            return false;
        }
        if (!held) {
            table.pruneIfIdle(p);
            return true; // only data given back
        }
        if (write) {
            p.makeWriter(s);
        } else {
            p.addReader(s);
        }
        return true;
    }

    /**
     * An entry of version 0 (unversioned, xp-spec 7.2, 9.4): a kernel that does not track versions.
     * <pre>
     *  READ_WRITE            its copy stands, data or not: it was the page's only writer (no other
     *                        kernel could write it meanwhile, and a kernel reclaiming within its
     *                        lease was never declared dead), so nothing newer than its copy can
     *                        exist; its data, if any, becomes the copy as the next version
     *  READ                  taken if the store never had the page (version 0), else the kernel
     *                        is told to drop its clean copy (it reads it again; nothing is lost)
     *  NONE with data        an unconfirmed return: taken as version 1 if the store never had the
     *                        page; else it cannot be judged (another kernel may have written the
     *                        page since and had that stored): not taken, and named in {@code lost}
     *                        (the reclaim's session is ended with a sentence: its writes may be lost)
     * </pre>
     */
    private boolean unversioned(KernelSession s, PageRecord p, ReclaimedPage r, boolean write, boolean held,
            long stored, java.util.List<String> lost) {
        boolean data = !r.getData().isEmpty();
        if (write) {
            if (data) {
                out.storeWrite(s, p.object, p.offset(), PageBytes.array(r.getData()), stored + 1,
                        "the data " + s + " reclaimed (unversioned) for " + p + ", which it held writable, is kept in "
                        + "memory only");
            }
            p.makeWriter(s);
            return true;
        }
        if (held && stored > 0) {
            out.refuse(s, "a reclaim of " + p + ": its read-only copy is unversioned and the pager's is version " + stored
                    + "; the kernel is told to drop it");
            p.drop(s);
            out.send(s, PageMessages.discard(s.objectIdOf(p.object.name()), p.offset(), pageSize));
            table.pruneIfIdle(p);
            return false;
        }
        if (data && stored > 0) {
            String why = "data given back for " + p + " without a version (0), which the pager cannot judge against its "
                    + "store's version " + stored + " (another kernel may have written the page since): not taken";
            out.refuse(s, "a reclaim of " + why);
            lost.add(why);
            table.pruneIfIdle(p);
            return false;
        }
        if (data) {
            out.storeWrite(s, p.object, p.offset(), PageBytes.array(r.getData()), 1,
                    "the data " + s + " reclaimed (unversioned) for " + p + " is kept in memory only");
        }
        if (held) {
            p.addReader(s);
        } else {
            table.pruneIfIdle(p);
        }
        return true;
    }

    /**
     * The page's version cannot be read (the store fails, or data given back for it waits with its
     * version unknown): nothing the kernel has is lost for it. Data it gives back is kept in memory
     * and judged once the store can be read (taken if newer, 7.4); a writable copy stays its own
     * (no other kernel holds the page; if it is older than the store's, its return is refused as
     * stale when it comes); a read-only copy, clean, is dropped and read again. Data kept unjudged
     * already for the page (given back by another kernel) stands for the pager's copy: data not
     * newer than it is not taken, and a writable copy older than it is refused as an older copy
     * is (the kernel is told to drop it).
     */
    private boolean unjudged(KernelSession s, PageRecord p, ReclaimedPage r, boolean write, UncheckedIOException e) {
        MemoryObject.PageCopy kept = p.object.unjudged(p.offset());
        long keptVersion = kept == null ? 0 : kept.version();
        if (write && r.getVersion() != 0 && keptVersion != 0 && r.getVersion() < keptVersion) { // 0: its copy stands
            out.refuse(s, "a reclaim of " + p + ": its copy (version " + r.getVersion() + ") is older than the data "
                    + "kept in memory for it (version " + keptVersion + "), whose version the store cannot read yet; "
                    + "the kernel is told to drop it");
            p.drop(s);
            out.send(s, PageMessages.discard(s.objectIdOf(p.object.name()), p.offset(), pageSize));
            table.pruneIfIdle(p);
            return false;
        }
        if (!r.getData().isEmpty()) {
            if (!out.storeUnjudged(s, p.object, p.offset(), PageBytes.array(r.getData()), r.getVersion(),
                    "the version of " + p + " cannot be read (" + e.getMessage() + ") to judge the data " + s
                    + " reclaimed: it is kept in memory, not served, until the store can be read and writes it if "
                    + "it is newer")) {
                out.refuse(s, "a reclaim of " + p + " with data of version " + r.getVersion() + ", which is not newer "
                        + "than the data kept in memory for it (version " + keptVersion + "); the data is not taken");
            }
        } else {
            out.storeFailed("the version of " + p + " cannot be read to judge the reclaim of " + s, e);
        }
        if (write) {
            p.makeWriter(s);
        } else if (r.getAccess() == VmProt.VM_PROT_READ) {
            out.refuse(s, "a reclaim of " + p + ": the pager cannot read the page's version; the kernel is told to "
                    + "drop its read-only copy");
            p.drop(s);
            out.send(s, PageMessages.discard(s.objectIdOf(p.object.name()), p.offset(), pageSize));
            table.pruneIfIdle(p);
            return false;
        }
        table.pruneIfIdle(p);
        return true;
    }
}
