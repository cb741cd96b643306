package io.machxp.pager.page;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.KernelSession;
import io.machxp.pager.object.MemoryObject;
import io.machxp.proto.xp.PageData;
import java.io.UncheckedIOException;

/**
 * Pages coming back from kernels, and the pager's copy handed on, for {@link PageCoherence}. A
 * page coming back (data_return, a page given back with a futex) is checked, then taken into the
 * pager's copy (its object and store) if dirty:
 * <pre>
 *  not held by the sender                  -> REFUSED, nothing changes
 *  clean                                   -> TAKEN (nothing to store)
 *  dirty from a reader, not a page of data -> REFUSED, nothing changes
 *  dirty, version not newer than the copy  -> STALE: the data is not taken
 *  dirty, version 2^63 or more (uint64),   -> STALE: the data is not taken (one bad version must
 *    or more than 2^32 above the copy's       not put a page out of reach of later writes)
 *  dirty, newer (or 0: the next version)   -> TAKEN: stored as that version
 *  dirty, the copy's version unreadable    -> TAKEN: kept in memory unjudged (not served); the
 *                                             store writes it once it can read the version and
 *                                             it is newer; a failed write until then. STALE if
 *                                             not newer than data kept unjudged already
 * </pre>
 * Pager core thread only; no I/O but the store's reads (writes go through {@link PageOutput}).
 */
final class PageReturns {
    private final int pageSize;
    private final PageOutput out;

    PageReturns(int pageSize, PageOutput out) {
        this.pageSize = pageSize;
        this.out = out;
    }

    /** What became of a page coming back from a kernel. */
    enum Accepted {
        /** Stored if dirty (or nothing to store). */
        TAKEN,
        /** Well-formed, from the writer, but not newer than the pager's copy: the data is not taken. */
        STALE,
        /** It broke the rules: nothing changes. */
        REFUSED
    }

    /**
     * Checks a page coming back from {@code s} and stores it if dirty, as {@code version} (0: the
     * next one). Dirty data no newer than the pager's copy is refused as STALE: it was taken
     * already (a return the kernel gave again after a restart) or is stale.
     */
    Accepted acceptReturn(KernelSession s, PageRecord p, boolean dirty, ByteString data, long version,
            String routine) {
        Accepted taken = judge(s, p, dirty, data, version, routine);
        if (taken == Accepted.TAKEN && dirty) {
            s.clearRefusedReturn(p.object.name(), p.offset());
        } else if (taken == Accepted.STALE && !isPagersCopy(p, data)) {
            // Not the pager's copy: the next synchronize of the page tells the kernel (spec 6.9).
            s.noteRefusedReturn(p.object.name(), p.offset(), "the data_return of page 0x" + Long.toHexString(p.offset())
                    + " of '" + p.object.name() + "' with version " + Long.toUnsignedString(version) + " was not taken: "
                    + staleWhy(p) + "; a dirty return must say one more than the version of the kernel's last "
                    + "return of the page, or of its supply if it returned none since (spec 7.2)");
        }
        return taken;
    }

    /** True if {@code data} is what the pager's copy holds already (a return given again after a restart). */
    private static boolean isPagersCopy(PageRecord p, ByteString data) {
        try {
            byte[] copy = p.object.page(p.offset());
            return copy != null ? data.equals(ByteString.copyFrom(copy)) : data.equals(ByteString.copyFrom(
                    new byte[data.size()]));
        } catch (UncheckedIOException e) {
            return false;
        }
    }

    private static String staleWhy(PageRecord p) {
        try {
            return "the pager's copy is version " + p.object.version(p.offset());
        } catch (UncheckedIOException e) {
            return "it is not newer than the data the pager keeps for the page";
        }
    }

    private Accepted judge(KernelSession s, PageRecord p, boolean dirty, ByteString data, long version,
            String routine) {
        if (!p.holds(s)) {
            out.refuse(s, routine + " for " + p + ", which it does not hold");
            return Accepted.REFUSED;
        }
        if (!dirty) {
            return Accepted.TAKEN;
        }
        if (p.writer != s) {
            out.refuse(s, routine + " with dirty data for " + p + ", which it holds read-only");
            return Accepted.REFUSED;
        }
        if (data.size() != pageSize) {
            out.refuse(s, routine + " with " + data.size() + " bytes for " + p + "; a page is " + pageSize);
            return Accepted.REFUSED;
        }
        try {
            long stored = p.object.version(p.offset());
            String outOfRange = PageVersions.outOfRange(version, stored);
            if (outOfRange != null) {
                out.refuse(s, routine + " of " + p + ": its " + outOfRange + "; the data is not taken");
                return Accepted.STALE;
            }
            if (version != 0 && version <= stored) {
                out.refuse(s, routine + " with version " + version + " of " + p + ", which is not newer than the "
                        + "pager's copy (version " + stored + "); the data is not taken");
                return Accepted.STALE;
            }
            out.storeWrite(s, p.object, p.offset(), PageBytes.array(data), version == 0 ? stored + 1 : version,
                    "the page store failed to write the data " + s + " returned for " + p + ": until it is "
                    + "written it is kept in memory only and a pager restart loses it");
        } catch (UncheckedIOException e) {
            if (!PageVersions.inRange(version)) {
                out.refuse(s, routine + " of " + p + ": its version " + Long.toUnsignedString(version)
                        + " is not below 2^63; the data is not taken");
                return Accepted.STALE;
            }
            // Kept, never thrown away while the kernel is told it is taken: the store judges its
            // version when it can be read, and until then the page is not served.
            MemoryObject.PageCopy kept = p.object.unjudged(p.offset());
            if (!out.storeUnjudged(s, p.object, p.offset(), PageBytes.array(data), version, "the version of " + p
                    + " cannot be read (" + e.getMessage() + "): the data " + s + " returned is kept in memory, "
                    + "not served, until the store can be read and writes it")) {
                out.refuse(s, routine + " with version " + version + " of " + p + ", which is not newer than the "
                        + "data kept in memory for it, or more than 2^32 above it (version " + (kept == null ? "?" : kept.version()) + "), whose "
                        + "version the store cannot read yet; the data is not taken");
                return Accepted.STALE;
            }
        }
        return Accepted.TAKEN;
    }

    /** The pager's copy of the page (zeros if it has none) with its version; null if the store fails. */
    PageData read(PageRecord p) {
        try {
            byte[] data = p.object.page(p.offset());
            // the object's array goes uncopied: nobody changes a page array once it is the pager's copy
            return PageData.newBuilder().setOffset(p.offset()).setData(PageBytes.wrap(data != null
                    ? data : new byte[pageSize])).setVersion(p.object.version(p.offset())).build();
        } catch (UncheckedIOException e) {
            out.storeFailed(p + " cannot be read; it is not handed on with its futex", e);
            return null;
        }
    }
}
