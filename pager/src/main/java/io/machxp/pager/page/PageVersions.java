package io.machxp.pager.page;

/**
 * The range of page versions a kernel may give back (docs/xp-spec.md 7.3). A version travels as
 * uint64; the pager's copy's is always below 2^63, and a dirty page given back is taken only with a
 * version above the copy's and at most {@link #MAX_AHEAD} above it. Out of that range its data is
 * not taken, as a stale return's: one bad return cannot raise a page's version so far that no
 * later write of a conforming kernel (version = supplied + 1) is above it. A conforming kernel is
 * ahead of the copy by the returns of its own that the pager lost (a restart), never by 2^32.
 */
public final class PageVersions {
    /** How far above the pager's copy a version given back may be. */
    public static final long MAX_AHEAD = 1L << 32;

    private PageVersions() {}

    /**
     * Why dirty data of {@code version} cannot become the copy of a page whose copy has version
     * {@code stored} (version 0: the next one), or null if it is newer and in range. A version not
     * above the copy's is not out of range: the caller tells it as stale.
     */
    public static String outOfRange(long version, long stored) {
        long effective = version == 0 ? stored + 1 : version;
        if (effective < 0) { // 2^63 or more, read as uint64
            return "version " + Long.toUnsignedString(effective) + " is not below 2^63";
        }
        if (effective > stored && effective - stored > MAX_AHEAD) {
            return "version " + effective + " is more than 2^32 above the pager's copy's (version " + stored + ")";
        }
        return null;
    }

    /** Whether {@code version} (uint64) is a page version at all: below 2^63. */
    static boolean inRange(long version) {
        return version >= 0;
    }
}
