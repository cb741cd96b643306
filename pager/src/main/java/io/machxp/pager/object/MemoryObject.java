package io.machxp.pager.object;

import io.machxp.pager.store.PageStore;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * A memory object the pager serves: a name, a size in whole pages, and the pager's copy of its
 * pages, kept in a {@link PageStore}. A page the pager has no data for (never written, or all
 * zeros) is supplied as memory_object_data_unavailable (zero fill).
 *
 * <p>A page given to the pager stays here in memory until the store has written it (off the
 * core thread, see {@link io.machxp.pager.core.PagerEnv#storeEffect}), so reads see it at once;
 * one whose write failed stays until a write of the page succeeds (the core writes it again,
 * see {@code StoreRetries}), and until then the keepalives of the kernel that gave it back are not answered.
 *
 * <p>Page arrays are never changed once here: {@link #stage} keeps the array it is given (its
 * caller made it and lets go of it), and {@link #page} and {@link #staged} hand out the array
 * kept here or the one the store gave, shared, for a message to carry without a copy
 * ({@code UnsafeByteOperations.unsafeWrap}); whoever gets one only reads it.
 */
public final class MemoryObject {
    private final String name;
    private final long size;
    private final PageStore store;
    private final Map<Long, Unsaved> unsaved = new HashMap<>();

    /**
     * A staged page; {@code zero}: all its bytes are 0 (it goes to kernels as a zero fill);
     * {@code judged}: false for data given back whose version the store could not tell when it
     * came ({@link #stageUnjudged}): {@code version} is then the one the kernel gave (0: the next).
     */
    private record Unsaved(byte[] data, long version, boolean zero, boolean judged) {}

    public MemoryObject(String name, long size, PageStore store) {
        this.name = name;
        this.size = size;
        this.store = store;
    }

    public String name() {
        return name;
    }

    public long size() {
        return size;
    }

    /**
     * The data of the page at {@code offset}, or null if it is all zeros; shared, to be read only.
     *
     * @throws UncheckedIOException if the store cannot read it
     */
    public byte[] page(long offset) {
        Unsaved kept = unsaved.get(offset);
        if (kept != null) {
            return kept.zero ? null : kept.data;
        }
        byte[] data = store.read(name, offset);
        return data == null || isZero(data) ? null : data;
    }

    /** The pager's copy of a page: its data (null if all zeros) and version. */
    public record PageCopy(byte[] data, long version) {}

    /**
     * Core thread: the copy of the page kept here until the store has written it (shared, to be
     * read only), or null (ask {@link #stored}, unless {@link #unjudged}).
     */
    public PageCopy staged(long offset) {
        Unsaved kept = unsaved.get(offset);
        return kept == null || !kept.judged ? null : new PageCopy(kept.zero ? null : kept.data, kept.version);
    }

    /**
     * Store I/O (an effect, off the core thread): the store's copy of the page, which is the
     * pager's when none is {@link #staged}; touches nothing of this object.
     *
     * @throws UncheckedIOException if the store cannot read it
     */
    public PageCopy stored(long offset) {
        PageStore.Copy copy = store.copy(name, offset); // one call: a batch ending between two would mix writes
        byte[] data = copy.data();
        return new PageCopy(data == null || isZero(data) ? null : data, copy.version());
    }

    /**
     * The version of the pager's copy of the page at {@code offset} (0: never written).
     *
     * @throws UncheckedIOException if the store cannot read it, or the page's data waits here
     *         with its version {@link #unjudged} (not known until the store can be read)
     */
    public long version(long offset) {
        Unsaved kept = unsaved.get(offset);
        if (kept != null && !kept.judged) {
            throw new NotJudged(name, offset);
        }
        return kept != null ? kept.version : store.version(name, offset);
    }

    /**
     * Core thread: data given back for the page whose version the store could not tell (kept
     * here by {@link #stageUnjudged}, not served until {@link #judged}): its data and the version
     * the kernel gave (0: the next one); null if none waits.
     */
    public PageCopy unjudged(long offset) {
        Unsaved kept = unsaved.get(offset);
        return kept == null || kept.judged ? null : new PageCopy(kept.data, kept.version);
    }

    /**
     * Core thread: keeps {@code data}, given back for the page as {@code kernelVersion} (0: the
     * next one), whose version the store could not tell: it is the page's copy once
     * {@link #writeJudged} finds it newer than the store's; until then the page is not served
     * ({@link #version} throws). Data kept unjudged already is compared with it as the store's
     * copy would be (xp-spec 7.3/7.4): data not newer than it is not taken (-1 is returned); 0
     * after a kept version k is kept as k + 1; a nonzero version replaces a kept 0.
     *
     * @return the version to judge the data as (0: the next one), or -1 if it is not taken
     */
    public long stageUnjudged(long offset, byte[] data, long kernelVersion) {
        Unsaved kept = unsaved.get(offset);
        long version = kernelVersion;
        if (kept != null && !kept.judged && kept.version != 0) {
            if (kernelVersion != 0 && (kernelVersion <= kept.version
                    || kernelVersion - kept.version > io.machxp.pager.page.PageVersions.MAX_AHEAD)) {
                return -1; // not newer, or out of range (7.3): the kept data stays the copy to judge
            }
            version = kernelVersion != 0 ? kernelVersion : kept.version + 1;
        }
        unsaved.put(offset, new Unsaved(data, version, isZero(data), false));
        return version;
    }

    /**
     * Store I/O (an effect, off the core thread): the version of the store's copy of the page;
     * touches nothing of this object.
     *
     * @throws UncheckedIOException if the store cannot read it
     */
    public long storedVersion(long offset) {
        return store.version(name, offset);
    }

    /** What {@link #writeJudged} did: wrote {@code version}, or found the store's {@code version} not older. */
    public record Judged(long version, boolean written) {}

    /**
     * Store I/O (an effect, off the core thread): writes data given back as {@code kernelVersion}
     * (0: the next one) if it is newer than the store's copy and in range, below 2^63 and at most
     * 2^32 above it (xp-spec 7.3, {@link io.machxp.pager.page.PageVersions}); touches nothing of this object.
     *
     * @throws UncheckedIOException if the store cannot read the version or write the page
     */
    public Judged writeJudged(long offset, byte[] data, long kernelVersion) {
        long stored = store.version(name, offset);
        if (kernelVersion != 0 && kernelVersion <= stored
                || io.machxp.pager.page.PageVersions.outOfRange(kernelVersion, stored) != null) {
            return new Judged(stored, false);
        }
        long version = kernelVersion != 0 ? kernelVersion : stored + 1;
        store.write(name, offset, data, version);
        return new Judged(version, true);
    }

    /**
     * What {@link #version} throws for a page whose data given back waits here unjudged: not a
     * failure of the store (the pager logs it once per page and does not count it as one).
     */
    public static final class NotJudged extends UncheckedIOException {
        private static final long serialVersionUID = 1L;
        private final String page;

        NotJudged(String object, long offset) {
            super(new java.io.IOException("the version of page 0x" + Long.toHexString(offset) + " of '" + object
                    + "' is not known: the data given back for it waits in memory until the store can be read"));
            this.page = object + "@" + offset;
        }

        /** The page, as "object@offset". */
        public String page() {
            return page;
        }
    }

    /** Core thread: the unjudged {@code data} of the page was judged: the store's copy is the pager's now. */
    public void judged(long offset, byte[] data) {
        Unsaved kept = unsaved.get(offset);
        if (kept != null && !kept.judged && kept.data == data) {
            unsaved.remove(offset);
        }
    }

    /**
     * Makes {@code data} (one page) the pager's copy of the page at {@code offset}, as {@code version}.
     *
     * @throws UncheckedIOException if the store cannot write it; the page is then kept in memory
     */
    public void write(long offset, byte[] data, long version) {
        byte[] own = data.clone(); // the caller may change its array afterwards
        stage(offset, own, version);
        persist(offset, own, version);
        persisted(offset, version);
    }

    /**
     * Store I/O (an effect, off the core thread): a kernel is to get write access to the page at
     * {@code offset}; the store (a library backend) may prepare for it, or refuse.
     *
     * @throws UncheckedIOException if the store refuses, with its reason
     */
    public void unlock(long offset) {
        try {
            store.unlock(name, offset);
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /**
     * Core thread: the page is the pager's copy from now on, kept here until it is written. Keeps
     * {@code data} itself: nobody changes it afterwards (it is the array of the page a kernel sent,
     * see {@code PageBytes}).
     */
    public void stage(long offset, byte[] data, long version) {
        unsaved.put(offset, new Unsaved(data, version, isZero(data), true));
    }

    /**
     * Store thread (or the core's): writes the page to the store; touches nothing of this object.
     *
     * @throws UncheckedIOException if the store cannot write it (the page stays staged)
     */
    public void persist(long offset, byte[] data, long version) {
        store.write(name, offset, data, version);
    }

    /** Core thread: the page was written as {@code version}; kept here only if a newer one is staged. */
    public void persisted(long offset, long version) {
        Unsaved kept = unsaved.get(offset);
        if (kept != null && kept.judged && kept.version == version) {
            unsaved.remove(offset);
        }
    }

    /** Core thread: whether a page is kept here that the store has not written yet. */
    public boolean hasStaged() {
        return !unsaved.isEmpty();
    }

    private static boolean isZero(byte[] data) {
        for (byte b : data) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }
}
