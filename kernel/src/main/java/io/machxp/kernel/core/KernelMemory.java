package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.isAbsent;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWord;

import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.task.Errno;
import java.util.function.BooleanSupplier;

/**
 * vm_read, vm_write and the word atomics on a memory object, page by page through the
 * {@link PageCache}: a read needs each page readable, a write or atomic needs it writable, and
 * waits (a page fault) until the pager has made it so. Each page's part is done in one step on
 * the core thread, so an aligned word is read or written whole; a range spanning pages is not one
 * atomic step. Words are little-endian. Part of the kernel core: same thread. The core revokes a
 * page's mapping while it copies, and maps it again after, so that in-process tasks copy to and
 * from the page on their own threads until the core next needs it.
 */
final class KernelMemory {
    /** The most bytes one vm_read or vm_write moves. */
    static final int MAX_TRANSFER = 1 << 20;

    private final PageCache pages;

    KernelMemory(PageCache pages) {
        this.pages = pages;
    }

    /**
     * @param shared the caller is a task process on this host: map the page to it afterwards
     * @param caller after a page fault, whether the calling task is still there to act (if not,
     *     it has failed the reply: a task that died while its call waited for a page does nothing)
     */
    void read(VmObject o, long offset, int length, boolean shared, BooleanSupplier caller, Reply<byte[]> reply) {
        pages.prefetch(o, offset, offset + length, Access.READ); // one data_request per run of absent pages
        readFrom(o, offset, new byte[length], 0, shared, caller, reply);
    }

    private void readFrom(VmObject o, long offset, byte[] out, int done, boolean shared, BooleanSupplier caller,
            Reply<byte[]> reply) {
        while (done < out.length) {
            long at = offset + done;
            VmPage p = o.slot(at);
            if (!p.access.covers(Access.READ)) {
                int resumeAt = done;
                pages.withAccess(o, at, Access.READ, fault(reply, caller,
                        () -> readFrom(o, offset, out, resumeAt, shared, caller, reply)));
                return;
            }
            int in = o.offsetInPage(at);
            int n = Math.min(out.length - done, o.pageSize - in);
            pages.unmap(p);
            pages.read(p, in, out, done, n);
            pages.map(p, shared);
            done += n;
        }
        reply.complete(out);
    }

    /**
     * A write that touches the word of a futex threads wait for is refused before any of its bytes
     * lands: the whole range still to write is checked when the write starts and again each time
     * it resumes after a page fault, on every page of it this kernel has.
     */
    void write(VmObject o, long offset, byte[] data, boolean shared, BooleanSupplier caller, Reply<Void> reply) {
        KernelError futex = waitedFutexIn(o, offset, data.length);
        if (futex != null) {
            reply.fail(futex);
            return;
        }
        pages.prefetch(o, offset, offset + data.length, Access.READ_WRITE);
        writeFrom(o, offset, data, 0, shared, caller, reply);
    }

    private void writeFrom(VmObject o, long offset, byte[] data, int done, boolean shared, BooleanSupplier caller,
            Reply<Void> reply) {
        if (done > 0) { // resumed after a fault: a wait may have begun on a word still to write
            KernelError futex = waitedFutexIn(o, offset + done, data.length - done);
            if (futex != null) {
                reply.fail(futex);
                return;
            }
        }
        while (done < data.length) {
            long at = offset + done;
            VmPage p = o.slot(at);
            if (p.access != Access.READ_WRITE) {
                int resumeAt = done;
                pages.withAccess(o, at, Access.READ_WRITE, fault(reply, caller,
                        () -> writeFrom(o, offset, data, resumeAt, shared, caller, reply)));
                return;
            }
            int in = o.offsetInPage(at);
            int n = Math.min(data.length - done, o.pageSize - in);
            KernelError futex = waitedFutexIn(o, p, in, n);
            if (futex != null) {
                reply.fail(futex);
                return;
            }
            pages.unmap(p);
            int from = done;
            withLiveWords(p, in, n, () -> io.machxp.kernel.vm.PageContents.copyIn(data, from, p.data, in, n));
            pages.written(p);
            pages.map(p, shared);
            done += n;
        }
        reply.complete(null);
    }

    void compareAndSwap(VmObject o, long offset, int width, long expected, long next, boolean shared,
            BooleanSupplier caller, Reply<CasResult> reply) {
        atomically(o, offset, width, shared, caller, reply, (p, in) -> {
            long old = load(p, in, width);
            boolean swap = old == (expected & mask(width));
            if (swap) {
                store(p, in, width, next);
                pages.written(p);
            }
            return () -> reply.complete(new CasResult(swap, old));
        });
    }

    void fetchAdd(VmObject o, long offset, int width, long delta, boolean shared, BooleanSupplier caller,
            Reply<Long> reply) {
        atomically(o, offset, width, shared, caller, reply, (p, in) -> {
            long old = load(p, in, width);
            store(p, in, width, old + delta);
            pages.written(p);
            return () -> reply.complete(old);
        });
    }

    /** An atomic on a word: changes the page and returns its answer, which runs once the page is mapped again. */
    private interface WordOp {
        Runnable apply(VmPage page, int offsetInPage);
    }

    /**
     * Runs {@code op} on the word at {@code offset} once its page is writable here, the page taken
     * back from every mapping meanwhile; then maps it again as a read or write would, to task
     * processes if the caller is one ({@code shared}), else in process (mapping it in process
     * would take it from every task process of this host). Answers after that, as a read or write
     * does: through the call file the answer wakes the caller at once, and its next access then
     * finds the page mapped.
     */
    private void atomically(VmObject o, long offset, int width, boolean shared, BooleanSupplier caller,
            Reply<?> reply, WordOp op) {
        VmPage p = o.slot(offset);
        if (p.access != Access.READ_WRITE) {
            pages.withAccess(o, offset, Access.READ_WRITE, fault(reply, caller,
                    () -> atomically(o, offset, width, shared, caller, reply, op)));
            return;
        }
        int in = o.offsetInPage(offset);
        KernelError futex = waitedFutexIn(o, p, in, width);
        if (futex != null) {
            reply.fail(futex);
            return;
        }
        pages.unmap(p);
        Runnable[] answer = new Runnable[1];
        withLiveWords(p, in, width, () -> answer[0] = op.apply(p, in));
        try {
            pages.map(p, shared);
        } finally {
            answer[0].run(); // the word changed: answered even if the map threw (an Error: a SIGBUS in the copy)
        }
    }

    /**
     * A futex word that threads wait for, here or on other kernels, changes only through the
     * futex calls. Linux lets a task write it even then, and leaves the waiters to a PI state the
     * word no longer matches; machxp refuses instead (docs/linux-mode.md). A word nobody waits for
     * is plain memory, as on Linux: a task may write any value into it.
     */
    private static KernelError waitedFutexIn(VmObject o, VmPage p, int from, int length) {
        for (int word = from & ~3; word < from + length; word += 4) {
            FutexEntry e = p.futexIfPresent(word);
            if (e != null && waitedFor(e)) {
                return waitedWord(o, p.pageOffset + word);
            }
        }
        return null;
    }

    /** The first futex threads wait for whose word lies in {@code length} bytes at {@code offset}, on the pages here. */
    private static KernelError waitedFutexIn(VmObject o, long offset, int length) {
        long end = offset + length;
        for (long start = offset - o.offsetInPage(offset); start < end; start += o.pageSize) {
            long page = start;
            VmPage p = o.page(page);
            if (p == null) {
                continue;
            }
            int from = (int) Math.max(0, offset - page);
            int to = (int) Math.min(o.pageSize, end - page);
            KernelError[] found = new KernelError[1];
            p.forEachFutex(e -> {
                int at = e.offsetInPage();
                if (found[0] == null && at + 4 > from && at < to && waitedFor(e)) {
                    found[0] = waitedWord(o, page + at);
                }
            });
            if (found[0] != null) {
                return found[0];
            }
        }
        return null;
    }

    private static KernelError waitedWord(VmObject o, long offset) {
        return KernelError.of(Errno.EINVAL, "offset 0x%x of '%s' is the word of a futex that threads wait for; "
                + "change it with vm_lock_futex and vm_unlock_futex (nothing of this write was made)", offset, o.name);
    }

    /**
     * Threads wait for the futex: here (also while another kernel holds it, its entry ABSENT here:
     * its waiters and request to the pager are this kernel's), or elsewhere while this kernel holds it.
     */
    private static boolean waitedFor(FutexEntry e) {
        if (!e.waiters.isEmpty()) {
            return true;
        }
        return !isAbsent(e.state()) && (e.relinquishPending || e.request != FutexEntry.Request.NONE);
    }

    /**
     * Runs {@code change} on the page's bytes and carries it into the state of every futex this
     * kernel holds live in the range: that state, not the page's bytes, is the word's truth while
     * it is live (see {@link io.machxp.kernel.futex.FutexWord}). Each word's state is loaded into
     * the page first, so bytes the change leaves alone keep the word's value. The fast path may
     * move a word meanwhile (a CAS from another thread): its state is then compared and set, and
     * a word the fast path took between the two keeps the fast path's value, as if the write had
     * come first and the lock after it.
     */
    private static void withLiveWords(VmPage p, int from, int length, Runnable change) {
        int first = from & ~3;
        int end = from + length;
        int count = 0;
        for (int word = first; word < end; word += 4) {
            if (live(p.futexIfPresent(word))) {
                count++;
            }
        }
        if (count == 0) {
            change.run();
            return;
        }
        FutexEntry[] entries = new FutexEntry[count];
        long[] before = new long[count];
        int i = 0;
        for (int word = first; word < end; word += 4) {
            FutexEntry e = p.futexIfPresent(word);
            if (live(e)) {
                entries[i] = e;
                before[i] = e.state();
                PageBytes.putInt(p.data, word, (int) before[i]);
                i++;
            }
        }
        change.run();
        for (i = 0; i < count; i++) {
            long now = PageBytes.getInt(p.data, entries[i].offsetInPage()) & 0xffffffffL;
            entries[i].compareAndSetState(before[i], now);
        }
    }

    private static boolean live(FutexEntry e) {
        return e != null && (e.state() & (FutexWord.ABSENT | FutexWord.NOPAGE)) == 0;
    }

    private static long mask(int width) {
        return width == 4 ? 0xffffffffL : -1L;
    }

    private static long load(VmPage p, int at, int width) {
        return width == 4 ? PageBytes.getInt(p.data, at) & 0xffffffffL : PageBytes.getLong(p.data, at);
    }

    private static void store(VmPage p, int at, int width, long value) {
        if (width == 4) {
            PageBytes.putInt(p.data, at, (int) value);
        } else {
            PageBytes.putLong(p.data, at, value);
        }
    }

    private static PageFault fault(Reply<?> reply, BooleanSupplier caller, Runnable resume) {
        return PageFault.of(() -> {
            if (caller.getAsBoolean()) {
                resume.run();
            }
        }, reply::fail);
    }
}
