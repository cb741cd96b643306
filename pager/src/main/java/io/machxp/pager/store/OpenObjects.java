package io.machxp.pager.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The memory objects a {@link FilePageStore} holds open: each one's files (a channel per suffix:
 * {@value FilePageStore#SUFFIX}, {@value FilePageStore#SUMS}, an old {@value FilePageStore#VERSIONS})
 * and its page records ({@link PageRecords}), at most {@link #limit} objects, so that a pager
 * serving many objects over its life runs out of neither file descriptors nor memory.
 * <pre>
 *  closed  --used (a read, a version, a write)-->  open, the most recently used: its files
 *          opened as needed, its records built again from them (a cache)
 *  open    --used-->  open, the most recently used
 *  open    --an object opened beyond the limit while this one is the least recently used and
 *          not held-->  closed: its channels closed, its records dropped
 *  held    the object of the call opening one (its channels are in use in that call), and each
 *          object with a write in the store's open batch (its channels are forced at the batch's
 *          end): never closed. The store ends a batch early (its forces done) and begins another
 *          before a write would hold more than {@link #batchObjects} objects, so that with the
 *          object a call opens at most {@link #limit} are open (two with a limit of one); those
 *          beyond the limit are closed at the batch's end ({@link #trim})
 * </pre>
 * Every use is under the store's lock, so no read or write uses a channel while it is closed.
 * What is not a cache, a page's unsettled state (a failed data write), the store keeps apart
 * ({@link PageRecords}'s set of them outlives its records). Not thread-safe: the store calls it
 * under its lock.
 */
final class OpenObjects {
    private static final Logger log = LoggerFactory.getLogger(FilePageStore.class);
    /** The objects held open by default: 128, so 256 files (384 if each has an old {@value FilePageStore#VERSIONS} file). */
    static final int DEFAULT_LIMIT = 128;

    /** One object held open: its channels by suffix, its records once built. */
    static final class Entry {
        final Map<String, FileChannel> files = new HashMap<>(4);
        PageRecords records;
    }

    private final int limit;
    /** Objects closed so far (read without the store's lock, by a meter). */
    private final java.util.concurrent.atomic.AtomicLong closes = new java.util.concurrent.atomic.AtomicLong();
    /** Whether an object must stay open (a write of it in the open batch). */
    private final Predicate<String> held;
    /** The objects open, least recently used first. */
    private final LinkedHashMap<String, Entry> objects = new LinkedHashMap<>(16, 0.75f, true);
    /** The file name of each channel open, for {@link FilePageStore.Step#FILE_FORCED}. */
    private final Map<FileChannel, String> names = new HashMap<>();
    /** The unsettled pages of objects closed (not a cache: kept until the object's records are built again). */
    private final Map<String, Set<Long>> unsettled = new HashMap<>();

    OpenObjects(int limit, Predicate<String> held) {
        if (limit < 1) {
            throw new IllegalArgumentException("at least one object must be held open, not " + limit);
        }
        this.limit = limit;
        this.held = held;
    }

    /**
     * The objects a batch may hold open: one fewer than the limit (at least one), so that with the
     * object a call opens meanwhile at most {@link #limit} are open.
     */
    int batchObjects() {
        return Math.max(1, limit - 1);
    }

    /** Closes the least recently used objects beyond the limit that are not held (at a batch's end). */
    void trim() {
        closeBeyondLimit(null);
    }

    /** The objects closed so far as the least recently used (not at the store's close). */
    long closes() {
        return closes.get();
    }

    /** The object's entry, made the most recently used; opening it closes the least recently used beyond the limit. */
    Entry use(String object) {
        Entry e = objects.get(object);
        if (e == null) {
            e = new Entry();
            objects.put(object, e);
            closeBeyondLimit(object);
        }
        return e;
    }

    /** The object's channel of that suffix if open (a channel an interrupt closed is forgotten), else null. */
    FileChannel channel(String object, String suffix) {
        Entry e = use(object);
        FileChannel file = e.files.get(suffix);
        if (file != null && !file.isOpen()) {
            e.files.remove(suffix); // closed by an interrupt: opened again by the caller
            names.remove(file);
            return null;
        }
        return file;
    }

    /** Keeps {@code file}, just opened, as the object's file of that suffix, named {@code name}. */
    void opened(String object, String suffix, FileChannel file, String name) {
        use(object).files.put(suffix, file);
        names.put(file, name);
    }

    /** The unsettled pages the object had when it was closed (given once, for its records built again), or null. */
    Set<Long> takeUnsettled(String object) {
        return unsettled.remove(object);
    }

    /** The file name of a channel open (for a test's crash hook). */
    String nameOf(FileChannel file) {
        return names.get(file);
    }

    /** The channels open, of every object. */
    int openFiles() {
        int n = 0;
        for (Entry e : objects.values()) {
            for (FileChannel f : e.files.values()) {
                n += f.isOpen() ? 1 : 0;
            }
        }
        return n;
    }

    /** The objects held open. */
    int openObjects() {
        return objects.size();
    }

    /** Closes the least recently used objects beyond the limit, but {@code using} and those held. */
    private void closeBeyondLimit(String using) {
        if (objects.size() <= limit) {
            return;
        }
        List<String> closing = new ArrayList<>();
        int over = objects.size() - limit;
        for (Iterator<String> it = objects.keySet().iterator(); it.hasNext() && closing.size() < over;) {
            String object = it.next();
            if (!object.equals(using) && !held.test(object)) {
                closing.add(object);
            }
        }
        for (String object : closing) {
            close(object, objects.remove(object));
            closes.incrementAndGet();
        }
    }

    private void close(String object, Entry e) {
        if (e.records != null && !e.records.unsettledPages().isEmpty()) {
            unsettled.put(object, e.records.unsettledPages());
        }
        for (FileChannel file : e.files.values()) {
            names.remove(file);
            try {
                file.close();
            } catch (IOException ex) {
                log.warn("page store: closing the files of {}: {}", object, ex.toString());
            }
        }
    }

    /** Closes every object's files (the store's close). */
    void closeAll() {
        objects.forEach(this::close);
        objects.clear();
        names.clear();
    }
}
