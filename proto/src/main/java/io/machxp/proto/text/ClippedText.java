package io.machxp.proto.text;

import java.nio.charset.StandardCharsets;

/**
 * A string shortened for a sentence, cut between code points, never inside a surrogate pair (a
 * split pair would be written as '?'). The kernel keeps a pager's name and a dispute's reason so
 * (dir3-review LOW-1), and the pager shows its own name so in its refusals: a vm_map's error
 * travels as a gRPC status description, in the trailers, which grpc-java bounds at 8 KiB; a
 * pager's long name (xp-spec 12.8 bounds none) or an out-of-spec reason (12.43: at most 1,024
 * bytes) would otherwise turn the sentence into a bare transport error.
 */
public final class ClippedText {
    /** The most characters (code points) of a pager's name the kernel shows. */
    public static final int MAX_NAME_CHARS = 64;
    /** The most UTF-8 bytes of a dispute's reason the kernel keeps (xp-spec 12.43's bound). */
    public static final int MAX_REASON_BYTES = 1024;

    private ClippedText() {}

    /** {@code s} whole if it has at most {@code max} code points, else its first {@code max} and "...". */
    public static String chars(String s, int max) {
        if (s.codePointCount(0, s.length()) <= max) {
            return s;
        }
        return s.substring(0, s.offsetByCodePoints(0, max)) + "...";
    }

    /**
     * {@code s} whole if its UTF-8 encoding has at most {@code max} bytes, else its longest start
     * of whole code points that, with "..." after it, fits in {@code max} bytes.
     */
    public static String utf8(String s, int max) {
        if (s.getBytes(StandardCharsets.UTF_8).length <= max) {
            return s;
        }
        int bytes = 0;
        int end = 0;
        while (end < s.length()) {
            int cp = s.codePointAt(end);
            int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + n > max - 3) {
                break;
            }
            bytes += n;
            end += Character.charCount(cp);
        }
        return s.substring(0, end) + "...";
    }
}
