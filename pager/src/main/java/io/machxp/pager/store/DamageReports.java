package io.machxp.pager.store;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How often a {@link FilePageStore} says that a page is damaged or reads as zeros despite its
 * record, so that a kernel asking again and again does not fill the log. Per damaged page:
 * <pre>
 *  first error since written   to be logged (StoreDamage.toBeLogged), counted
 *  again within a minute       counted only
 *  again a minute after        to be logged, with the count so far
 *  page written                forgotten: its next damage is a first again ({@link #forget})
 * </pre>
 * Zero data with a record is one warning at most a minute for the whole store, with a count.
 * Not thread-safe: the store calls it under its lock.
 */
final class DamageReports {
    private static final Logger log = LoggerFactory.getLogger(FilePageStore.class);
    static final long DAMAGE_LOG_NANOS = 60_000_000_000L;
    /** The time, in nanoseconds; a test's own clock. */
    LongSupplier clock = System::nanoTime;
    /** Zero data met with a record and an empty slot: {count, when last logged}, for the whole store. */
    private final long[] zeroSeen = {0, Long.MIN_VALUE};
    /** Damaged pages reported since last written: offset/object -> {count, when last logged}. */
    private final Map<String, long[]> damageSeen = new HashMap<>();

    /**
     * A damaged page's error. The first for the page since it was last written is to be logged,
     * and then at most one a minute, with how many came; every one counts.
     */
    StoreDamage damage(String object, long offset, Path file, String what) {
        String key = offset + "/" + object;
        long now = clock.getAsLong();
        long[] seen = damageSeen.computeIfAbsent(key, k -> new long[] {0, now - DAMAGE_LOG_NANOS});
        seen[0]++;
        boolean toLog = now - seen[1] >= DAMAGE_LOG_NANOS;
        if (toLog) {
            seen[1] = now;
        }
        return new StoreDamage("page 0x" + Long.toHexString(offset) + " of '" + object + "' in " + file
                + " is damaged: " + what + ". It is not served (a kernel asking for it gets data_error) until a "
                + "kernel gives back a copy newer than the version the store keeps for it (a reclaim or a data_return) or the "
                + "files are restored from a "
                + "backup", seen[0], toLog);
    }

    /** The page was written: its next damage is reported as a first. */
    void forget(String object, long offset) {
        damageSeen.remove(offset + "/" + object);
    }

    /**
     * Zero data with an intact record and an empty slot is a first write cut off before its
     * data, or a page whose data was lost (a file cut short): the store cannot tell them apart and
     * reads the page as never written; a warning names it, at most one a minute for the store.
     */
    void zeroWithRecord(String object, long offset, Path file, Path sums, PageSum record) {
        long now = clock.getAsLong();
        zeroSeen[0]++;
        if (zeroSeen[1] == Long.MIN_VALUE || now - zeroSeen[1] >= DAMAGE_LOG_NANOS) {
            zeroSeen[1] = now;
            log.warn("page store: page 0x{} of '{}' in {} reads as zeros, never written, though its record in {} is of "
                    + "version {}: a first write cut off before its data, or the page's data lost (a file cut short); "
                    + "taken as never written ({} such read{} so far, at most one said a minute)",
                    Long.toHexString(offset), object, file, sums, record.version(), zeroSeen[0],
                    zeroSeen[0] == 1 ? "" : "s");
        }
    }
}
