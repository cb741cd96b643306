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

    public StoreDamage(String message) {
        super(new IOException(message));
    }

    @Override
    public String getMessage() {
        return getCause().getMessage();
    }
}
