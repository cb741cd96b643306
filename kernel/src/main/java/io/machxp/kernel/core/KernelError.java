package io.machxp.kernel.core;

import io.machxp.proto.task.Errno;
import java.util.Locale;

/** A failed request: an errno and a sentence a person can act on. */
public record KernelError(Errno errno, String message) {
    public static KernelError of(Errno errno, String format, Object... args) {
        return new KernelError(errno, String.format(Locale.ROOT, format, args));
    }
}
