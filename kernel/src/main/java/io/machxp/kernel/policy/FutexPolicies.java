package io.machxp.kernel.policy;

/**
 * The kernel side of the protocol variants: each a small policy (see {@link FutexPolicy}). The
 * pager side of a variant is in io.machxp.pager.policy; a variant names one of each.
 */
public final class FutexPolicies {
    private FutexPolicies() {}

    /** Part III/IV: cache futexes, the page inside the futex messages (the default). */
    public static final FutexPolicy CACHE = () -> "cache";

    /**
     * Part II only: every futex goes back to the pager as soon as nobody here holds it; its page
     * stays here until the pager asks for it (a page-in of the next owner).
     */
    public static final FutexPolicy NO_CACHE = new FutexPolicy() {
        @Override
        public String name() {
            return "no-cache";
        }

        @Override
        public boolean cacheFutexes() {
            return false;
        }

        @Override
        public boolean pageWithFutex() {
            return false;
        }
    };

    /**
     * Cache futexes, but the futex's page leaves apart from it: a release first returns the page
     * to the pager (memory_object_data_return), and the next owner pages it in on its own.
     */
    public static final FutexPolicy PAGE_SEPARATE = new FutexPolicy() {
        @Override
        public String name() {
            return "page-separate";
        }

        @Override
        public boolean pageWithFutex() {
            return false;
        }
    };

    /** Cache futexes; a release carries the pages dirtied under the futex (entry consistency). */
    public static final FutexPolicy PIGGYBACK = new FutexPolicy() {
        @Override
        public String name() {
            return "piggyback";
        }

        @Override
        public boolean piggyback() {
            return true;
        }
    };

    /**
     * Direct handoff (xp-spec 14): as the cache, but the release of a futex the pager orders forwarded is copied with its page
     * straight to the next kernel (the pager's side decides when: its grant policy).
     */
    public static final FutexPolicy DIRECT = () -> "direct";

    /** The policy of the old switches (--no-cache, --piggyback). */
    public static FutexPolicy of(boolean cacheFutexes, boolean piggyback) {
        if (!cacheFutexes) {
            return NO_CACHE;
        }
        return piggyback ? PIGGYBACK : CACHE;
    }
}
