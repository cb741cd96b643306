package io.machxp.pager.core;

/**
 * How the pager's sentences show a string a kernel sent (a kernel name, an object name): quoted,
 * whole if it is short, else its start and its length. A sentence travels as a status's
 * description, in the trailers, which gRPC bounds (grpc-java: 8 KiB of metadata; past it the
 * kernel gets INTERNAL without the errno, xp-spec 3.1), or in a message of the pager's, which must
 * fit the kernel's 4 MiB: a sentence that echoed a kernel's name of a mebibyte whole broke both.
 */
final class Shown {
    /** The most characters of a kernel's string a sentence shows. */
    static final int MAX_CHARS = 64;

    private Shown() {
    }

    /** {@code 's'}, or {@code 'start...' (N characters)} for a string longer than {@link #MAX_CHARS}. */
    static String quoted(String s) {
        if (s.length() <= MAX_CHARS) {
            return "'" + s + "'";
        }
        return "'" + s.substring(0, MAX_CHARS) + "...' (" + s.length() + " characters)";
    }
}
