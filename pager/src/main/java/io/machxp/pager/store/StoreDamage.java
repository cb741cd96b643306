package io.machxp.pager.store;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * What the page store throws when a file of it is damaged: a checksum that does not match, a
 * record cut short, a number that is not one. Its message is a sentence for a person: the file,
 * where in it, what was expected and what was found, and what to do. Nothing damaged is ever
 * served as good data; the pager answers a kernel's request for a damaged page with
 * memory_object_data_error, and refuses to start on a damaged holders' journal.
 */
public final class StoreDamage extends UncheckedIOException {
    private static final long serialVersionUID = 1L;
    private final long seen;
    private final boolean toBeLogged;

    public StoreDamage(String message) {
        this(message, 1, true);
    }

    /**
     * Damage found for the {@code seen}th time since the page was last written; {@code toBeLogged}
     * false if a log line said it already within the last minute (it still counts).
     */
    public StoreDamage(String message, long seen, boolean toBeLogged) {
        super(new IOException(message));
        this.seen = seen;
        this.toBeLogged = toBeLogged;
    }

    /** How many times this damage was found since the page was last written (1: the first). */
    public long seen() {
        return seen;
    }

    /** Whether to log it: the first time, then at most once a minute. */
    public boolean toBeLogged() {
        return toBeLogged;
    }

    @Override
    public String getMessage() {
        return getCause().getMessage();
    }
}
