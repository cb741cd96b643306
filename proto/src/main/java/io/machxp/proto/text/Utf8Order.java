package io.machxp.proto.text;

import java.util.Comparator;

/**
 * The order of names as their UTF-8 bytes compare (unsigned, byte by byte), which the XP
 * specification uses for lists both sides build (a kernel's stated directory view, a pager's
 * dispute list: xp-spec 2.8, 12.43). Java's {@link String#compareTo} compares UTF-16 code units
 * and differs from it for names outside the Basic Multilingual Plane; comparing code point by
 * code point gives the UTF-8 order without encoding either name.
 */
public final class Utf8Order {
    /** Names in UTF-8 byte order. */
    public static final Comparator<String> NAMES = Utf8Order::compare;

    private Utf8Order() {
    }

    /** Compares two names as their UTF-8 bytes would (code point by code point). */
    public static int compare(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }
}
