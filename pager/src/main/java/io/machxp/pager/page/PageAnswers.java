package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import io.machxp.pager.object.MemoryObject;
import io.machxp.proto.xp.VmProt;
import java.util.function.Consumer;

/**
 * The answer of a page operation whose conflicting holders are gone ({@link PageCoherence}): the
 * store's part first, off the core thread (a library backend's consent to write access and the
 * page's data, {@link PageOutput#pageEffect}), then data_supply / _unavailable, the write
 * permission, or data_error. Pager core thread only.
 *
 * <pre>
 *  operation ready --staged copy, or no data needed, no unlock------------> answer now
 *  operation ready --else: page effect (unlock, read), operation waits----> FETCHING
 *  FETCHING        --the effect's result, an event on the core------------> the page's operations run on
 * </pre>
 */
final class PageAnswers {
    private final int pageSize;
    private final PageOutput out;
    /** Runs the page's operations on once a fetch is back. */
    private final Consumer<PageRecord> resume;
    /** Whether a supply to this kernel goes precious, with reply (spec 6.10). */
    private final java.util.function.Predicate<KernelSession> precious;
    /** Holds keepalive answers until the fetches before them are back (xp-spec 4.2, 10.1). */
    final FetchBarrier barrier = new FetchBarrier();

    PageAnswers(int pageSize, PageOutput out, java.util.function.Predicate<KernelSession> precious,
            Consumer<PageRecord> resume) {
        this.pageSize = pageSize;
        this.out = out;
        this.precious = precious;
        this.resume = resume;
    }

    /** Whether {@code op} waits for the store (asked now if it had not been, or asked again). */
    boolean fetching(PageRecord p, PageOperation op) {
        if (op.fetching) {
            return true;
        }
        return (op.fetched == null || lacksData(p, op)) && fetch(p, op);
    }

    /**
     * Asks the store, off the core thread, for what answering {@code op} needs: the backend's
     * consent to write access and the page's data (its staged copy, if it has one, needs no I/O).
     * True while that is under way: its result comes back as an event, which runs the page's
     * operations on. A page's data cannot change meanwhile: the holders that could return any
     * have been flushed or downgraded, and the next operations on the page wait.
     */
    private boolean fetch(PageRecord p, PageOperation op) {
        boolean unlock = op.write && p.writer != op.requester;
        boolean data = needsData(p, op);
        MemoryObject.PageCopy staged = data ? p.object.staged(p.offset()) : null;
        if (data && p.object.unjudged(p.offset()) != null) {
            try { // data given back waits with its version unknown: not served, neither it nor the store's older page
                p.object.version(p.offset());
            } catch (RuntimeException unknown) {
                op.fetched = new PageOperation.Fetched(null, null, unknown);
                return false;
            }
        }
        if (!unlock && (!data || staged != null)) {
            op.fetched = new PageOperation.Fetched(null, staged, null);
            return false;
        }
        MemoryObject object = p.object;
        long offset = p.offset();
        op.fetching = true;
        barrier.started(p);
        boolean[] later = {false};
        out.pageEffect(p.key, () -> {
            RuntimeException refused = null;
            if (unlock) {
                try {
                    object.unlock(offset);
                } catch (RuntimeException e) {
                    refused = e;
                }
            }
            if (!data || staged != null || refused != null) {
                return new PageOperation.Fetched(refused, staged, null);
            }
            try {
                return new PageOperation.Fetched(null, object.stored(offset), null);
            } catch (RuntimeException e) {
                return new PageOperation.Fetched(null, null, e);
            }
        }, fetched -> {
            op.fetched = fetched;
            op.fetching = false;
            barrier.finished(p);
            if (later[0]) {
                resume.accept(p);
                barrier.release(); // after the page's operations ran on: a keepalive waits for answers
            }
        });
        later[0] = true;
        return op.fetching;
    }

    /** Whether answering {@code op} sends the page's data (the requester does not hold it). */
    private static boolean needsData(PageRecord p, PageOperation op) {
        KernelSession r = op.requester;
        return op.write ? p.writer != r && !p.readers.contains(r) : p.writer != r;
    }

    /** The requester dropped its copy while its operation was fetching: the data must be fetched too. */
    private static boolean lacksData(PageRecord p, PageOperation op) {
        PageOperation.Fetched f = op.fetched;
        return f.refused() == null && f.copy() == null && f.readFailed() == null && needsData(p, op);
    }

    /**
     * Gives the requester the access it asked for: nothing to the writer, which has it already,
     * except allow write for a data_unlock (xp-spec 3.5, A.13: it carries no data); a reader that
     * asks again gets its copy again. The answer names the object by the id the request came
     * under ({@link #answerId}).
     */
    void answer(PageRecord p, PageOperation op) {
        KernelSession r = op.requester;
        if (!op.write) {
            // A reader that asks again has lost its copy (it dropped a clean page without a
            // data_return): answered again, as xp-spec 3.5 and 6.7 ask. The writer is not (A.5): its
            // request may have crossed a futex grant that made it the writer with the page.
            if (p.writer != r && supply(p, op, VmProt.VM_PROT_WRITE)) {
                p.addReader(r);
            }
        } else if (p.writer != r) {
            if (!unlocked(p, op)) {
                return;
            }
            if (p.readers.contains(r)) {
                p.makeWriter(r);
                out.send(r, PageMessages.allowWrite(answerId(p, op), p.offset(), pageSize));
            } else if (supply(p, op, VmProt.VM_PROT_NONE)) {
                p.makeWriter(r);
            }
        } else if (op.unlock) {
            // The writer asks to write (xp-spec 3.5: a data_unlock is answered): allow write gives it
            // nothing it does not have. Unlike a supply (A.5), it cannot overwrite what it wrote.
            out.send(r, PageMessages.allowWrite(answerId(p, op), p.offset(), pageSize));
        }
    }

    /**
     * The id the answer to {@code op} names the object by (xp-spec 5.2, 5.3): the id the request
     * came under, while it still names the object (review of outside4, LOW-6: the id the pager names
     * the object by could be one the kernel terminates meanwhile, and the answer crossed that
     * terminate; a kernel may drop a data_supply under a terminated id, and its fault would wait
     * while the pager counted the page as its). If the kernel has terminated the id it asked under
     * (keeping the object under another, the terminate reached the pager first) or that id now names
     * another object: the id the pager names the object by.
     */
    static int answerId(PageRecord p, PageOperation op) {
        KernelSession r = op.requester;
        MemoryObject asked = op.objectId == null ? null : r.objects.get(op.objectId);
        return asked != null && asked.name().equals(p.key.object()) ? op.objectId : r.objectIdOf(p.key.object());
    }

    /** Whether the object's store lets the requester write the page; if not, it gets data_error. */
    private boolean unlocked(PageRecord p, PageOperation op) {
        RuntimeException e = op.fetched.refused();
        if (e == null) {
            return true;
        }
        out.send(op.requester, PageMessages.error(answerId(p, op), p.offset(), pageSize,
                "the pager refuses write access to " + p + ": " + e.getMessage()));
        return false;
    }

    private boolean supply(PageRecord p, PageOperation op, VmProt lockValue) {
        int objectId = answerId(p, op);
        MemoryObject.PageCopy copy = op.fetched.copy();
        if (copy == null) {
            RuntimeException e = op.fetched.readFailed();
            out.storeFailed(p + " cannot be read for " + op.requester + ", which gets data_error", e);
            out.send(op.requester, PageMessages.error(objectId, p.offset(), pageSize,
                    "the pager cannot read " + p + " from its store: " + e.getMessage()));
            return false;
        }
        out.send(op.requester, PageMessages.supply(objectId, p.offset(), pageSize, copy.data(), copy.version(),
                lockValue, precious.test(op.requester)));
        return true;
    }

}
