package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.page.PageReturns.Accepted;
import io.machxp.proto.xp.PageData;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The pages that travel with futexes (entry consistency), for {@link PageCoherence}: given back
 * with a futex's release, handed on inside its grant, and gated for a direct handoff (xp-spec 14)
 * while the futex goes straight from its holder to the next. Pager core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  released with the futex  from its writer only, as a data_return without a kernel copy
 *  (releasedWithFutex)      ({@link PageReturns}): taken or stale, the releaser holds it no more
 *                           and the idle record is pruned; refused (not a page of the object,
 *                           not written by the releaser, bad data): nothing changes. Only a page
 *                           taken is handed on with the futex (true)
 *  granted with the futex   each page given back that nobody holds or asks for now (its record
 *  (grantedWithFutex)       idle, made again) goes inside futex_granted, the pager's copy; the
 *                           grantee becomes its writer. One the store cannot read stays out
 *  gated (gate)             the holder {@code from} writes it and nothing is in progress or
 *                           queued: gated, gateWriter = from (a copy may go to the next holder)
 *  gate opening             a request comes: the forward's order is withdrawn at the holder and
 *  ({@link PageOperations#run}) the request goes on as usual; once the holder no longer writes
 *                           the page, no copy can go any more: ungated
 *  settling                 the holder's release is being taken, or the holder leaves without
 *  (forwardSettling)        one (its pages forgotten): nothing runs on the page until the
 *                           release is done (forwardGranted below), in the same core event,
 *                           with a target or without one
 *  settled (forwardSettled) the futex is granted (to null: to nobody it was forwarded to):
 *                           ungated; if nobody holds the page, the grantee becomes its writer
 *                           with the pager's copy (it may hold the copy forwarded to it);
 *                           requests for the page go on once the release is done
 *                           (forwardGranted): with a grantee, once its grant is sent (a revoke
 *                           sent before it would reach the grantee before the page, and the
 *                           pager would count a writer as a reader); without one, once the
 *                           futex's token and owner_died are settled (a death's recording run
 *                           before would prune the futex's record with its old token)
 * </pre>
 */
final class FutexPages {
    private final PageOutput out;
    private final PageTable pages;
    private final PageChecks checks;
    private final PageReturns returns;
    private final PageOperations operations;

    FutexPages(PageOutput out, PageTable pages, PageChecks checks, PageReturns returns, PageOperations operations) {
        this.out = out;
        this.pages = pages;
        this.checks = checks;
        this.returns = returns;
        this.operations = operations;
    }

    /**
     * A page given back with a futex by its writer: a data_return without a kernel copy.
     *
     * @return whether it was taken (else refused: the futex must not hand it on)
     */
    boolean releasedWithFutex(KernelSession s, MemoryObject o, PageData d) {
        String routine = "memory_object_futex_released";
        if (!checks.pageOf(o, d.getOffset())) {
            out.refuse(s, routine + " with a page at 0x" + Long.toHexString(d.getOffset())
                    + ", which is not a page of '" + o.name() + "'");
            return false;
        }
        PageRecord p = pages.get(o.name(), d.getOffset());
        if (p == null || p.writer != s) {
            out.refuse(s, routine + " with " + new PageKey(o.name(), d.getOffset())
                    + ", which it does not hold for writing");
            return false;
        }
        Accepted taken = returns.acceptReturn(s, p, d.getDirty(), d.getData(), d.getVersion(), routine);
        if (taken == Accepted.REFUSED) {
            return false;
        }
        p.drop(s); // taken, or stale: as a data_return without a kernel copy, the kernel holds it no more
        pages.pruneIfIdle(p); // a grant of the futex makes it again, to hand it on
        operations.writerGone(s, p);
        return taken == Accepted.TAKEN;
    }

    /**
     * The pages given back with a futex that nobody holds or asks for now, for the kernel the
     * futex is granted to: it becomes their writer.
     */
    List<PageData> grantedWithFutex(KernelSession s, MemoryObject o, Collection<Long> offsets) {
        List<PageData> granted = new ArrayList<>();
        for (long offset : offsets) {
            PageRecord p = pages.record(o, offset); // pruned when it was given back: made again
            if (!p.idle()) {
                continue;
            }
            PageData page = returns.read(p);
            if (page == null) {
                pages.pruneIfIdle(p);
                continue;
            }
            p.makeWriter(s);
            granted.add(page);
        }
        return granted;
    }

    /** Gates the page for a direct handoff if {@code from} writes it and nothing is in progress on it. */
    boolean gate(KernelSession from, MemoryObject o, long offset) {
        PageRecord p = pages.get(o.name(), offset);
        if (p == null || p.writer != from || p.current != null || !p.queue.isEmpty() || p.gated || p.gateSettling) {
            return false;
        }
        p.gated = true;
        p.gateWriter = from;
        p.gateOpening = false;
        return true;
    }

    /**
     * The holder of a forwarded futex releases it (its gated page may come back inside the release),
     * and the forward settles next in the same core event: the page waits for that.
     */
    void forwardSettling(MemoryObject o, long offset) {
        PageRecord p = pages.get(o.name(), offset);
        if (p != null && p.gated) {
            p.gateSettling = true;
        }
    }

    /**
     * The forward is settled: the page ungated, its writer {@code to} if nobody holds it (null:
     * nobody is made its writer). Requests wait until the futex's release is done
     * ({@link #forwardGranted}): with a target, so that nothing asks {@code to} for the page before
     * the grant that gives it the page; without one too, so that nothing they run (a death's
     * recording) looks at the futex before its token and owner_died are settled.
     */
    PageData forwardSettled(MemoryObject o, long offset, KernelSession to) {
        PageRecord p = pages.get(o.name(), offset);
        if (p == null || !p.gated) {
            return null;
        }
        PageOperations.ungate(p);
        PageData page = null;
        if (to != null && p.writer == null && p.readers.isEmpty()) {
            page = returns.read(p);
            if (page != null) {
                p.makeWriter(to);
            }
        }
        p.gateSettling = true; // until forwardGranted, with a target (its grant) or without (the next's, or freed)
        return page;
    }

    /**
     * The release that settled a forward is done (the grant sent, its target's early release
     * taken, or, without a target, the futex granted to the next or freed): requests go on.
     */
    void forwardGranted(MemoryObject o, long offset) {
        PageRecord p = pages.get(o.name(), offset);
        if (p == null || !p.gateSettling || p.gated) {
            return;
        }
        p.gateSettling = false;
        operations.run(p);
        pages.pruneIfIdle(p);
    }
}
