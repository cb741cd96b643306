package io.machxp.pager.store;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * Lines of the page store's small text files (the holders' journal, the epoch, the lease, the
 * format, the high-water marks) with a
 * checksum: a line is its fields, a tab, and the CRC32C of the fields' UTF-8 bytes in 8 hex
 * digits. A line without one is of the format before checksums. Numbers in
 * them are read with an error that says which file, which line and what was there, never a bare
 * NumberFormatException. Such a file is read as UTF-8 ({@link #read}) and replaced whole
 * ({@link #replace}).
 */
final class CheckedText {
    private CheckedText() {}

    /** {@code body} with its checksum (no line end). */
    static String line(String body) {
        return body + '\t' + String.format("%08x", crc(body));
    }

    /**
     * The fields of a checked {@code line} (what {@link #line} was given).
     *
     * @throws StoreDamage if it has no checksum or its checksum does not match, with {@code where}
     */
    static String body(String line, String where) {
        int tab = line.lastIndexOf('\t');
        if (tab < 0 || line.length() - tab - 1 != 8) {
            throw new StoreDamage(where + " is damaged: it ends without its checksum (8 hex digits after a tab): '"
                    + shown(line) + "'");
        }
        String body = line.substring(0, tab);
        String sum = line.substring(tab + 1);
        int expected = crc(body);
        int found;
        try {
            found = Integer.parseUnsignedInt(sum, 16);
        } catch (NumberFormatException e) {
            throw new StoreDamage(where + " is damaged: its checksum '" + shown(sum) + "' is not 8 hex digits");
        }
        if (found != expected) {
            throw new StoreDamage(where + " is damaged: its checksum is " + PageSum.hex(found) + ", its text '"
                    + shown(body) + "' gives " + PageSum.hex(expected));
        }
        return body;
    }

    /**
     * A decimal number that is not negative, {@code what} in {@code where}.
     *
     * @throws StoreDamage if {@code text} is not one
     */
    static long number(String text, String where, String what) {
        try {
            long n = Long.parseLong(text);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new StoreDamage(where + " is damaged: " + what + " is '" + shown(text) + "', not a decimal number of at "
                + "least 0");
    }

    /** The text of a file that holds one number (the epoch, the lease): one checked line. */
    static String numberFile(long n) {
        return line(Long.toString(n)) + '\n';
    }

    /**
     * The number in {@code text}, the file {@code file} that holds {@code what}: one line, checked
     * ({@link #numberFile}) or, of the format before checksums, the number alone ({@code oldSyntax}:
     * only in a store upgraded from that format; in a store created checked, a line without its
     * checksum is damage).
     *
     * @throws StoreDamage if the file is cut short, damaged, or holds no such number
     */
    static long numberIn(String text, java.nio.file.Path file, String what, boolean oldSyntax) {
        String where = "the file " + file + " (" + what + ")";
        requireLineEnd(text, where);
        if (text.isEmpty() || text.indexOf('\n') != text.length() - 1) {
            throw new StoreDamage(where + " is damaged: it holds " + (text.isEmpty() ? "nothing" : "more than one line")
                    + ", not one number");
        }
        String line = text.substring(0, text.length() - 1);
        return number(line.indexOf('\t') >= 0 || !oldSyntax ? body(line, where) : line, where, what);
    }

    /** Whether the text ends with a line end: every file the store writes does; one cut short does not. */
    static void requireLineEnd(String text, String where) {
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new StoreDamage(where + " is damaged: it is cut short (its last line has no line end: '"
                    + shown(text.substring(text.lastIndexOf('\n') + 1)) + "')");
        }
    }

    private static int crc(String body) {
        CRC32C crc = new CRC32C();
        crc.update(body.getBytes(StandardCharsets.UTF_8));
        return (int) crc.getValue();
    }

    /** At most 80 characters of {@code text}, control characters shown as '?'. */
    static String shown(String text) {
        String cut = text.length() > 80 ? text.substring(0, 80) + "..." : text;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }

    /** The text of one of the store's text files ({@code what}); bytes that are not UTF-8 are damage. */
    static String read(java.nio.file.Path file, String what) throws java.io.IOException {
        try {
            return java.nio.file.Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new StoreDamage(what + " (" + file + ") is damaged: it is not UTF-8 text (" + e + ")");
        }
    }

    /**
     * Replaces {@code file} with {@code text} atomically: a new file beside it, forced, renamed over
     * it, and its directory forced ({@code dirSync}) before this returns.
     */
    static void replace(java.nio.file.Path file, String text, DirectorySync dirSync) throws java.io.IOException {
        java.nio.file.Path dir = file.getParent();
        java.nio.file.Path tmp = dir.resolve(file.getFileName() + ".tmp");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
                java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                ch.write(bytes, bytes.position());
            }
            ch.force(true);
        }
        java.nio.file.Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        dirSync.force(dir);
    }
}
