package io.machxp.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes on the command line: a count of bytes, or one with a unit of powers of 1024, written as
 * people write them: 4096, 64k, 64K, 64KB, 64KiB, 1m, 1MiB, 1g (b, kb, kib, ... in any case).
 */
final class Sizes {
    private static final Pattern SIZE = Pattern.compile("([0-9]+)\\s*(?:([kmg])(?:i?b)?|b)?");

    private Sizes() {}

    static long parse(String text) {
        Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (m.matches()) {
            int shift = m.group(2) == null ? 0 : switch (m.group(2).charAt(0)) {
                case 'k' -> 10;
                case 'm' -> 20;
                default -> 30;
            };
            try {
                return Math.multiplyExact(Long.parseLong(m.group(1)), 1L << shift);
            } catch (NumberFormatException | ArithmeticException tooLarge) {
                // below
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a size; write e.g. 4096, 64k, 64KiB or 1m");
    }
}
