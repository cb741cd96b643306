package io.machxp.conform.kernel;

import java.util.HashMap;
import java.util.Map;

/**
 * A memory object the kit's pager serves to the kernel under test: its pages (data and version)
 * and whether the pager answers page requests by itself ({@code auto}, the default: every
 * data_request supplied with the access asked, every data_unlock granted, dirty returns taken)
 * or leaves them to the case.
 */
public final class ServedObject {
    /** The pager's copy of a page. */
    public record Copy(byte[] data, long version) {}

    private final String name;
    private final int pageSize;
    private final int pages;
    private final Map<Long, Copy> copies = new HashMap<>();
    private volatile boolean auto = true;

    ServedObject(String name, int pageSize, int pages) {
        this.name = name;
        this.pageSize = pageSize;
        this.pages = pages;
    }

    public String name() {
        return name;
    }

    public long size() {
        return (long) pageSize * pages;
    }

    public int pages() {
        return pages;
    }

    /** Whether the pager answers page requests by itself. */
    public boolean auto() {
        return auto;
    }

    /** The case answers page requests itself from now on. */
    public ServedObject manual() {
        auto = false;
        return this;
    }

    /** The pager's copy of the page at {@code offset}: zeros at version 0 if never written. */
    public synchronized Copy copy(long offset) {
        return copies.getOrDefault(offset, new Copy(new byte[pageSize], 0));
    }

    /** Sets the pager's copy of a page (a case that wants a known version). */
    public synchronized void put(long offset, byte[] data, long version) {
        copies.put(offset, new Copy(data.clone(), version));
    }

    /**
     * Takes dirty data a kernel gave back if it is newer than the pager's copy (spec 7.3; version
     * 0: the copy's version + 1).
     */
    synchronized void takeDirty(long offset, byte[] data, long version) {
        Copy now = copy(offset);
        long v = version == 0 ? now.version() + 1 : version;
        if (v > now.version() && data.length == pageSize) {
            copies.put(offset, new Copy(data.clone(), v));
        }
    }
}
